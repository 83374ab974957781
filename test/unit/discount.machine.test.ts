/** Every path of the discount machine, by pure transitions and a simulated clock: no sleeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import { discountMachine, type DiscountEvent, type DiscountRoute } from '../../src/machines/discount.machine.ts';
import { pureTransition } from '../../src/actors/runtime/pure-transition.ts';
import { sameTransition } from '../support/same-transition.ts';

const hostTransition = pureTransition(discountMachine);

const IDLE = 30 * 60_000;
const pune: DiscountRoute = { id: 'pune-mumbai-airport', name: 'Pune to Mumbai Airport', price: 2199, code: 'TRUST4111', available: true };
const shirdi: DiscountRoute = { id: 'pune-shirdi', name: 'Pune to Shirdi', price: 2499, code: 'SAMPLEPTS2499', available: true };
const expired: DiscountRoute = { ...shirdi, available: false };

/**
 * A conversation under a simulated clock: `send` applies an event at `now`,
 * `advance` moves the clock and delivers whatever delayed transitions fall due —
 * exactly what the actor host does with the deadlines it stores.
 */
class Conversation {
  snap: AnyMachineSnapshot;
  now = 0;
  effects: { type: string; [k: string]: unknown }[] = [];
  private deadlines = new Map<string, { event: EventObject; due: number }>();
  private n = 0;

  constructor() {
    const [snap, actions] = initialTransition(discountMachine, { customer: '9876543210', idleTimeoutMs: IDLE });
    this.snap = snap;
    this.apply(actions as Action[]);
  }

  send(e: Unstamped): this {
    const event = { id: `e${++this.n}`, at: this.now, ...e } as DiscountEvent;
    const [snap, actions] = transition(discountMachine, this.snap, event);
    sameTransition([snap, actions], hostTransition(this.snap, event)); // the actor host's transition agrees with XState's
    this.snap = snap;
    this.apply(actions as Action[]);
    return this;
  }

  advance(ms: number): this {
    this.now += ms;
    for (const [id, d] of [...this.deadlines]) {
      if (d.due > this.now) continue;
      this.deadlines.delete(id);
      const [snap, actions] = transition(discountMachine, this.snap, d.event as DiscountEvent);
      sameTransition([snap, actions], hostTransition(this.snap, d.event));
      this.snap = snap;
      this.apply(actions as Action[]);
    }
    return this;
  }

  get state(): string {
    return JSON.stringify(this.snap.value);
  }

  take(): string[] {
    const t = this.effects.map((e) => e.type);
    this.effects = [];
    return t;
  }

  private apply(actions: Action[]): void {
    for (const a of actions) {
      if (a.type === 'xstate.emit') this.effects.push(a.params.event as { type: string });
      if (a.type === 'xstate.raise' && typeof a.params.delay === 'number') this.deadlines.set(String(a.params.id), { event: a.params.event as EventObject, due: this.now + a.params.delay });
      if (a.type === 'xstate.cancel') this.deadlines.delete(String(a.params.sendId));
    }
  }
}
type Action = { type: string; params: Record<string, unknown> };
/** An event before the conversation stamps its id and time. */
type Unstamped = DiscountEvent extends infer T ? (T extends DiscountEvent ? Omit<T, 'id' | 'at'> : never) : never;

const route = (r: DiscountRoute) => ({ type: 'ROUTE_REQUESTED' as const, route: r });
const accept = (r: DiscountRoute | null = null, campaign: DiscountRoute | null = pune) => ({ type: 'ACCEPTED' as const, route: r, campaignRoute: campaign });
const decline = { type: 'DECLINED' as const };
const reason = (r: 'bad_service' | 'prices_high' | 'other') => ({ type: 'REASON_GIVEN' as const, reason: r, text: r });

describe('discount machine', () => {
  it('starts ended, waiting for a message', () => {
    assert.equal(new Conversation().state, '"ended"');
  });

  it('offers a matched route: the discount text and the app link', () => {
    const c = new Conversation().send(route(pune));
    assert.equal(c.state, '{"conversation":"offered"}');
    assert.deepEqual(c.effects, [{ type: 'offer.send', route: pune, eventId: 'e1' }]);
    assert.equal(c.snap.context.lastRoute.id, pune.id);
    assert.equal(c.snap.context.conversations, 1);
  });

  it('sends the code of the offered route when the customer accepts, and only once for a repeated press', () => {
    const c = new Conversation().send(route(shirdi));
    c.take();
    c.send(accept());
    assert.equal(c.state, '{"conversation":"codeSent"}');
    assert.deepEqual(c.effects, [{ type: 'code.send', route: shirdi, eventId: 'e2' }]);
    c.take();
    c.send(accept()).send(accept());
    assert.deepEqual(c.take(), [], 'duplicate presses are not answered again');
  });

  it('prefers the route the button names, then the last offered, then the campaign route', () => {
    const named = new Conversation().send(route(pune)).send(accept(shirdi));
    assert.equal((named.effects.at(-1)!.route as DiscountRoute).id, shirdi.id);
    const campaign = new Conversation().send(accept(null, pune));
    assert.equal(campaign.state, '{"conversation":"codeSent"}');
    assert.equal((campaign.effects[0]!.route as DiscountRoute).id, pune.id);
  });

  it('hands over with the care message when accepting without any available route', () => {
    const c = new Conversation().send(accept(null, null));
    assert.deepEqual(c.effects, [{ type: 'handover.request', say: 'care', at: 0, eventId: 'e1' }]);
    assert.equal(c.state, '{"conversation":"handedOver"}');
    c.take();
    c.send(accept(expired, null));
    assert.deepEqual(c.effects, [{ type: 'handover.request', say: 'none', at: 0, eventId: 'e2' }], 'people have it: the bot stays quiet');
  });

  for (const r of ['bad_service', 'prices_high', 'other'] as const) {
    it(`asks why on decline and records the reason ${r}, once`, () => {
      const c = new Conversation().send(route(pune)).send(decline);
      assert.equal(c.state, '{"conversation":"askedReason"}');
      assert.deepEqual(c.take(), ['offer.send', 'reasons.ask']);
      c.send(decline);
      assert.deepEqual(c.take(), [], 'a second decline press is not answered again');
      c.send(reason(r));
      assert.equal(c.state, '{"conversation":"reasonRecorded"}');
      assert.deepEqual(c.effects, [{ type: 'reason.log', reason: r, text: r, at: 0, eventId: 'e2' }], 'one row per decline, keyed by it');
      c.take();
      c.send(reason(r));
      assert.deepEqual(c.take(), [], 'a second reason press is not logged twice');
    });
  }

  it('logs a decline left without a reason as `none` when the conversation times out, dated by the decline, once', () => {
    const c = new Conversation().send(route(pune));
    c.advance(1000).send(decline);
    c.take();
    c.advance(IDLE);
    assert.equal(c.state, '"ended"');
    assert.deepEqual(c.effects, [{ type: 'reason.log', reason: 'none', text: 'none', at: 1000, eventId: 'e2' }]);
    c.take();
    c.send({ type: 'UNRECOGNISED', text: 'hi' }).advance(IDLE);
    assert.deepEqual(c.take(), ['handover.request'], 'the next conversation does not log that decline again');
  });

  it('logs no `none` when a reason was given, nor when nothing was declined', () => {
    const reasoned = new Conversation().send(decline).send(reason('other')).advance(IDLE);
    assert.deepEqual(reasoned.take(), ['reasons.ask', 'reason.log']);
    const quiet = new Conversation().send(route(pune)).advance(IDLE);
    assert.deepEqual(quiet.take(), ['offer.send']);
  });

  it('keys a reason by the decline it explains, so one pressed after the timeout replaces that decline\'s `none`', () => {
    const c = new Conversation().send(decline).advance(IDLE);
    assert.deepEqual(c.effects.at(-1), { type: 'reason.log', reason: 'none', text: 'none', at: 0, eventId: 'e1' });
    c.take();
    c.advance(5000).send(reason('prices_high'));
    assert.deepEqual(c.effects, [{ type: 'reason.log', reason: 'prices_high', text: 'prices_high', at: IDLE + 5000, eventId: 'e1' }]);
    c.take();
    c.advance(IDLE);
    assert.deepEqual(c.take(), [], 'explained: no second none');
  });

  it('logs an unexplained decline as `none` when the customer declines again, so each decline has its row', () => {
    const c = new Conversation().send(decline).send(route(pune)).send(decline);
    assert.deepEqual(c.effects.filter((e) => e.type === 'reason.log'), [{ type: 'reason.log', reason: 'none', text: 'none', at: 0, eventId: 'e1' }]);
    c.take();
    c.send(reason('bad_service'));
    assert.deepEqual(c.effects, [{ type: 'reason.log', reason: 'bad_service', text: 'bad_service', at: 0, eventId: 'e3' }]);
  });

  it('still logs the unexplained decline when the customer moved on to another route first', () => {
    const c = new Conversation().send(decline).send(route(pune)).advance(IDLE);
    assert.deepEqual(c.take(), ['reasons.ask', 'offer.send', 'reason.log']);
    assert.equal(c.state, '"ended"');
  });

  it('hands unrecognised text over to people, with the care message and contact card', () => {
    const c = new Conversation().send({ type: 'UNRECOGNISED', text: 'hello?' });
    assert.equal(c.state, '{"conversation":"handedOver"}');
    assert.deepEqual(c.effects, [{ type: 'handover.request', say: 'care', at: 0, eventId: 'e1' }]);
    c.take();
    c.send(route(pune)).send({ type: 'UNRECOGNISED', text: 'what?' });
    assert.deepEqual(c.effects.map((e) => [e.type, e.say]), [['offer.send', undefined], ['handover.request', 'care']], 'a route it can offer resumes the bot; the care path hands over again');
  });

  it('hands over when the customer asks for a person, with a short notice instead of the care message', () => {
    for (const from of [new Conversation(), new Conversation().send(route(pune)), new Conversation().send(decline)]) {
      from.take();
      from.send({ type: 'HUMAN_REQUESTED', text: 'call me' });
      assert.equal(from.state, '{"conversation":"handedOver"}');
      assert.deepEqual(from.effects.map((e) => e.say), ['notice']);
    }
  });

  it('stays quiet once handed over, yet hands over again on every message (people may have resolved the chat), until it times out', () => {
    const c = new Conversation().send({ type: 'HUMAN_REQUESTED', text: 'agent please' });
    c.take();
    c.send({ type: 'UNRECOGNISED', text: 'hello?' }).send({ type: 'KEYWORD', key: 'textMsg' }).send(route(expired)).send({ type: 'HUMAN_REQUESTED', text: 'agent' });
    assert.deepEqual(c.effects.map((e) => `${e.type}:${e.say}`), Array(4).fill('handover.request:none'));
    assert.equal(c.state, '{"conversation":"handedOver"}');
    c.take();
    c.advance(IDLE - 1);
    assert.equal(c.state, '{"conversation":"handedOver"}', 'each message restarted the idle timer');
    c.advance(1);
    assert.equal(c.state, '"ended"');
  });

  it('answers the discount buttons and routes it can offer while handed over', () => {
    const c = new Conversation().send({ type: 'UNRECOGNISED', text: 'hi' }).send(route(pune));
    assert.equal(c.state, '{"conversation":"offered"}');
    const d = new Conversation().send({ type: 'UNRECOGNISED', text: 'hi' }).send(decline);
    assert.equal(d.state, '{"conversation":"askedReason"}');
    const a = new Conversation().send({ type: 'UNRECOGNISED', text: 'hi' }).send(accept(pune));
    assert.equal(a.state, '{"conversation":"codeSent"}');
  });

  it('answers media instead of text, and keywords, with their predefined responses', () => {
    const c = new Conversation().send({ type: 'KEYWORD', key: 'textMsg' }).send({ type: 'KEYWORD', key: 'care_job' }).send({ type: 'KEYWORD', key: 'unlock_diya' });
    assert.deepEqual(c.effects.map((e) => e.key), ['textMsg', 'care_job', 'unlock_diya']);
  });

  it('gives an expired or disabled route the care path, handing over', () => {
    const c = new Conversation().send(route(expired));
    assert.deepEqual(c.effects.map((e) => e.say), ['care']);
    assert.equal(c.state, '{"conversation":"handedOver"}');
    assert.equal(c.snap.context.lastRoute, null);
  });

  it('ends the conversation after IDLE_TIMEOUT of silence, counted from the last message', () => {
    const c = new Conversation().send(route(pune));
    c.advance(IDLE - 1000);
    c.send({ type: 'KEYWORD', key: 'care_job' });
    c.advance(IDLE - 1000);
    assert.equal(c.state, '{"conversation":"offered"}', 'activity restarted the idle timer');
    c.advance(1000);
    assert.equal(c.state, '"ended"');
  });

  it('starts again after it ended, remembering the last route for a later "yes"', () => {
    const c = new Conversation().send(route(shirdi)).advance(IDLE);
    assert.equal(c.state, '"ended"');
    c.take();
    c.send(accept(null, pune));
    assert.equal(c.state, '{"conversation":"codeSent"}');
    assert.equal((c.effects[0]!.route as DiscountRoute).id, shirdi.id);
    assert.equal(c.snap.context.conversations, 2);
  });

  it('moves to a new route when asked mid-conversation', () => {
    const c = new Conversation().send(route(pune)).send(decline).send(route(shirdi));
    assert.equal(c.state, '{"conversation":"offered"}');
    assert.equal(c.snap.context.lastRoute.id, shirdi.id);
  });
});
