/**
 * The contract `pureTransition` (src/actors/runtime/pure-transition.ts) relies on: it drives
 * `machine.transition` with a hand-made actor scope, an XState internal, so XState is pinned
 * exactly in package.json and this file checks, on generated event sequences for both
 * machines, that it still answers what XState's public `transition()` answers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { pureTransition } from '../../src/actors/runtime/pure-transition.ts';
import { chatMachine, type ChatEvent } from '../../src/machines/chat.machine.ts';
import { discountMachine, type DiscountEvent, type DiscountRoute } from '../../src/machines/discount.machine.ts';

const root = new URL('../../', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8')) as Record<string, unknown>;

/** A small seeded generator (mulberry32), so a failing sequence can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof random>;
type Action = { type: string; params?: unknown };

/** What a transition decided, in comparable form: the next state and the actions by type and parameters. */
function outcome(from: AnyMachineSnapshot, [next, actions]: [AnyMachineSnapshot, readonly unknown[]]) {
  return {
    value: next.value,
    context: next.context,
    status: next.status,
    // The host takes "same snapshot, no actions" to mean the event was not handled.
    unchanged: next === from,
    actions: (actions as Action[]).map((a) => ({ type: a.type, params: JSON.parse(JSON.stringify(a.params ?? null)) as unknown })),
  };
}

/**
 * Runs one generated sequence through both transitions, checking each step,
 * and follows XState's answer. `deliver` may hand back a delayed event that fell due.
 */
function replay(machine: AnyStateMachine, start: AnyMachineSnapshot, events: (step: number, snap: AnyMachineSnapshot, actions: readonly Action[]) => EventObject, steps: number, label: string): number {
  const pure = pureTransition(machine);
  let snap = start;
  let actions: readonly Action[] = [];
  let handled = 0;
  for (let i = 0; i < steps; i++) {
    const event = events(i, snap, actions);
    const expected = transition(machine, snap, event) as [AnyMachineSnapshot, Action[]];
    const actual = pure(snap, event);
    assert.deepEqual(outcome(snap, actual), outcome(snap, expected), `${label}, step ${i}: ${event.type} in ${JSON.stringify(snap.value)}`);
    if (expected[0] !== snap) handled++;
    [snap, actions] = expected;
  }
  return handled;
}

const chatInput = { chatId: 'c1', customer: '9876543210', customerType: 'Customer' as const, channel: '8000247247', at: 1_000 };

function chatEvent(rng: Rng, i: number, at: number): EventObject {
  const agent = rng.pick(['agent-1', 'agent-2', 'lead']);
  const body = { kind: rng.pick(['text', 'image', 'button']), text: `t${i}` };
  const customerType = rng.pick(['Customer', 'Partner', 'Vendor', 'SRDP'] as const);
  const events: ChatEvent[] = [
    { type: 'CUSTOMER_MESSAGE', id: `wamid.${i}`, at, channel: rng.pick(['8000247247', '9099039188']), customerType, ...(rng.next() < 0.5 ? { name: 'Asha' } : {}), body: { ...body, waMessageId: `wamid.${i}` } },
    { type: 'AGENT_MESSAGE', id: `a${i}`, at, agent, body: { kind: 'text', text: `reply ${i}` } },
    { type: 'BOT_MESSAGE', id: `b${i}`, at, bot: 'discount-bot', body },
    { type: 'OPEN', id: `o${i}`, at, by: agent, channel: '8000247247', customerType },
    { type: 'SET_STATUS', id: `s${i}`, at, by: agent, status: rng.pick(['active', 'resolved'] as const) },
    { type: 'READ', id: `r${i}`, at, agent },
    { type: 'DELIVERY', id: `d${i}`, at, waMessageId: `wamid.${rng.int(i + 1)}`, status: rng.pick(['sent', 'delivered', 'read', 'failed'] as const), ...(rng.next() < 0.3 ? { error: 'policy' } : {}) },
  ];
  // Now and then an event no state takes, which must leave the very same snapshot.
  return rng.next() < 0.05 ? { type: 'NOT_A_CHAT_EVENT' } : rng.pick(events);
}

const route = (id: string, available: boolean): DiscountRoute => ({ id, name: id, price: 2199, code: `CODE-${id}`, available });
const routes = [route('pune-mumbai', true), route('pune-shirdi', true), route('expired', false)];
const IDLE = 30 * 60_000;

/** Discount events, and now and then the delayed timeout the last transition scheduled (as the host's deadlines deliver it). */
function discountEvent(rng: Rng, i: number, at: number, pending: Map<string, EventObject>): EventObject {
  if (pending.size && rng.next() < 0.15) return rng.pick([...pending.values()]);
  const events: DiscountEvent[] = [
    { type: 'ROUTE_REQUESTED', id: `e${i}`, at, route: rng.pick(routes) },
    { type: 'ACCEPTED', id: `e${i}`, at, route: rng.next() < 0.5 ? rng.pick(routes) : null, campaignRoute: rng.next() < 0.5 ? rng.pick(routes) : null },
    { type: 'DECLINED', id: `e${i}`, at },
    { type: 'REASON_GIVEN', id: `e${i}`, at, reason: rng.pick(['bad_service', 'prices_high', 'other'] as const), text: 'why' },
    { type: 'KEYWORD', id: `e${i}`, at, key: rng.pick(['textMsg', 'care_job', 'unlock_diya'] as const) },
    { type: 'UNRECOGNISED', id: `e${i}`, at, text: 'hello?' },
  ];
  return rng.pick(events);
}

/** The timers a transition's actions leave armed: delayed raises add, cancels remove (what the host stores as deadlines). */
function track(pending: Map<string, EventObject>, actions: readonly Action[]): void {
  for (const a of actions) {
    const p = (a.params ?? {}) as { id?: unknown; event?: EventObject; delay?: unknown; sendId?: unknown };
    if (a.type === 'xstate.raise' && typeof p.delay === 'number' && p.event) pending.set(String(p.id), p.event);
    else if (a.type === 'xstate.cancel') pending.delete(String(p.sendId));
  }
}

const SEQUENCES = 60;
const STEPS = 40;

describe('pureTransition agrees with XState’s public transition()', () => {
  it('on generated chat conversations: same next state, context and actions at every step', () => {
    let handled = 0;
    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const rng = random(seed);
      let at = chatInput.at;
      const start = initialTransition(chatMachine, chatInput)[0];
      handled += replay(chatMachine, start, (i) => chatEvent(rng, i, (at += 1 + rng.int(60_000))), STEPS, `chat seed ${seed}`);
    }
    assert.ok(handled > SEQUENCES * STEPS * 0.5, `most generated events change the chat (${handled})`);
  });

  it('on generated discount conversations, timeouts included: same next state, context and actions at every step', () => {
    let timeouts = 0;
    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const rng = random(1_000 + seed);
      const pending = new Map<string, EventObject>();
      let at = 0;
      const [start, initial] = initialTransition(discountMachine, { customer: '9876543210', idleTimeoutMs: IDLE });
      track(pending, initial as Action[]);
      replay(discountMachine, start, (i, _snap, last) => {
        track(pending, last);
        const e = discountEvent(rng, i, (at += 1 + rng.int(IDLE)), pending);
        if (e.type.startsWith('xstate.after')) timeouts++;
        return e;
      }, STEPS, `discount seed ${seed}`);
    }
    assert.ok(timeouts > 0, 'some sequences deliver the idle timeout');
  });

  it('returns the very snapshot it was given for an event no state takes', () => {
    const pure = pureTransition(chatMachine);
    const start = initialTransition(chatMachine, chatInput)[0];
    const [next, actions] = pure(start, { type: 'NOT_A_CHAT_EVENT' });
    assert.equal(next, start);
    assert.deepEqual(actions, []);
  });
});

describe('the XState version pureTransition was written for', () => {
  it('is pinned exactly in package.json and is the one installed', () => {
    const pin = (readJson('package.json').dependencies as Record<string, string>).xstate;
    assert.match(pin ?? '', /^\d+\.\d+\.\d+$/, `package.json must pin xstate to an exact version (no ^ or ~), found "${pin}": pureTransition uses XState internals`);
    const installed = readJson('node_modules/xstate/package.json').version;
    assert.equal(
      installed,
      pin,
      `xstate ${String(installed)} is installed but pureTransition was written and checked for xstate ${pin}: ` +
        'run `npm ci`, or re-check src/actors/runtime/pure-transition.ts against the new version (this file and bench/transition-cost.ts) and move the pin',
    );
  });
});
