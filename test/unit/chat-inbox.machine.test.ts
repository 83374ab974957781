/** The team-inbox side of the chat machine (#18): assignment, statuses, snooze, notes, labels, CSAT — pure transitions under a simulated clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import {
  MAX_LABELS, RATING_WAIT_MS, SERVICE_WINDOW_MS, chatMachine, csatReplyId, listingOf, withInboxDefaults,
  type ChatContext, type ChatEvent,
} from '../../src/machines/chat.machine.ts';
import { pureTransition } from '../../src/actors/runtime/pure-transition.ts';
import { sameTransition } from '../support/same-transition.ts';

const hostTransition = pureTransition(chatMachine);
type Action = { type: string; params: Record<string, unknown> };
type Effect = { type: string; [k: string]: unknown };
type Unstamped = ChatEvent extends infer E ? (E extends ChatEvent ? Omit<E, 'id' | 'at'> & { id?: string } : never) : never;

/**
 * One chat under a simulated clock: `send` applies an event at `now`, `advance`
 * moves the clock and delivers the delayed transitions that fall due, stamped
 * as the actor host stamps a stored deadline (its due time as `at`).
 */
class Chat {
  snap: AnyMachineSnapshot;
  now = 1_000_000;
  effects: Effect[] = [];
  readonly deadlines = new Map<string, { event: EventObject; due: number }>();
  private n = 0;

  constructor() {
    this.snap = initialTransition(chatMachine, { chatId: 'c1', customer: '9876543210', customerType: 'Customer', channel: '8000247247', at: this.now })[0];
  }

  get ctx(): ChatContext {
    return this.snap.context as ChatContext;
  }

  get state(): string {
    return String(this.snap.value);
  }

  send(e: Unstamped): this {
    return this.apply({ id: `e${++this.n}`, at: this.now, ...e } as ChatEvent);
  }

  advance(ms: number): this {
    this.now += ms;
    for (const [id, d] of [...this.deadlines].sort((a, b) => a[1].due - b[1].due)) {
      if (d.due > this.now) continue;
      this.deadlines.delete(id);
      this.apply({ ...d.event, id: `deadline:${id}:${d.due}`, at: d.due } as unknown as ChatEvent);
    }
    return this;
  }

  /** Effect types since the last call. */
  take(): string[] {
    const t = this.effects.map((e) => e.type);
    this.effects = [];
    return t;
  }

  last(type: string): Effect | undefined {
    return this.effects.findLast((e) => e.type === type);
  }

  private apply(event: ChatEvent): this {
    const [snap, actions] = transition(chatMachine, this.snap, event);
    sameTransition([snap, actions], hostTransition(this.snap, event)); // the actor host's transition agrees with XState's
    // Like the host: the stored deadlines follow the raise/cancel actions, relative to the event's own time.
    for (const a of actions as Action[]) {
      if (a.type === 'xstate.emit') this.effects.push(a.params.event as Effect);
      if (a.type === 'xstate.cancel') this.deadlines.delete(String(a.params.sendId));
      if (a.type === 'xstate.raise' && typeof a.params.delay === 'number') this.deadlines.set(String(a.params.id), { event: a.params.event as EventObject, due: event.at + a.params.delay });
    }
    this.snap = snap;
    return this;
  }
}

const customerSays = (text = 'hi', extra?: Record<string, unknown>): Unstamped => ({
  type: 'CUSTOMER_MESSAGE', channel: '8000247247', customerType: 'Customer', body: { kind: extra ? 'interactive' : 'text', text, waMessageId: `wamid.${text}`, ...(extra ? { extra } : {}) },
});
const agentSays = (agent = 'asha'): Unstamped => ({ type: 'AGENT_MESSAGE', agent, body: { kind: 'text', text: 'on it' } });
const autoAssign = (assignee: string, team: string | null = 'drivers'): Unstamped => ({ type: 'ASSIGN', by: 'auto', assignee, team, manual: false });
const manual = (assignee: string | null, by = 'lead'): Unstamped => ({ type: 'ASSIGN', by, assignee, manual: true });
const setStatus = (status: 'active' | 'pending' | 'resolved', by = 'asha'): Unstamped => ({ type: 'SET_STATUS', by, status });

describe('chat machine: assignment', () => {
  it('queues a new chat as unassigned (waiting since its first message) and tells the assigner', () => {
    const c = new Chat().send(customerSays());
    assert.equal(c.state, 'active');
    assert.equal(c.ctx.inbox.assignee, null);
    assert.equal(c.ctx.inbox.waitingSince, c.now);
    assert.deepEqual(c.take(), ['chat.opened', 'conversation.opened', 'message.appended', 'assignment.wanted']);
  });

  it('takes the round-robin decision once: a second ASSIGN for an assigned chat changes nothing', () => {
    const c = new Chat().send(customerSays());
    c.take();
    c.now += 5;
    c.send(autoAssign('asha'));
    assert.equal(c.ctx.inbox.assignee, 'asha');
    assert.equal(c.ctx.inbox.team, 'drivers');
    assert.equal(c.ctx.inbox.waitingSince, null, 'out of the Unassigned queue');
    assert.equal(c.ctx.inbox.assignedAt, c.now);
    assert.deepEqual(c.effects, [{ type: 'assignment.changed', from: null, to: 'asha', team: 'drivers', by: 'auto', at: c.now, conversation: 1, eventId: 'e2' }]);
    const before = c.snap;
    c.take();
    c.send(autoAssign('ravi'));
    assert.equal(c.snap, before, 'the other pod\'s decision is not a transition: nothing stored, nothing emitted');
    assert.deepEqual(c.take(), []);
  });

  it('lets an agent reassign and unassign; an unassigned active chat waits in the queue again', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha'));
    c.take();
    c.send(manual('ravi'));
    assert.equal(c.ctx.inbox.assignee, 'ravi');
    assert.equal(c.ctx.inbox.team, 'drivers', 'the team stays when the event names none');
    assert.deepEqual(c.take(), ['assignment.changed']);
    c.now += 100;
    c.send(manual(null));
    assert.equal(c.ctx.inbox.assignee, null);
    assert.equal(c.ctx.inbox.waitingSince, c.now);
    assert.deepEqual(c.take(), ['assignment.changed', 'assignment.wanted']);
    const same = c.snap;
    c.send(manual(null));
    assert.equal(c.snap, same, 'unassigning an unassigned chat is no transition');
  });

  it('gives a chat an agent opens to that agent, and a reopened chat back to the queue as a new conversation', () => {
    const opened = new Chat().send({ type: 'OPEN', by: 'asha', channel: '8000247247', customerType: 'Customer' });
    assert.equal(opened.ctx.inbox.assignee, 'asha');
    assert.equal(opened.ctx.inbox.waitingSince, null);
    const c = new Chat().send(customerSays()).send(autoAssign('asha')).send(agentSays());
    c.now += SERVICE_WINDOW_MS * 2; // resolved outside the window: no rating question
    c.send(setStatus('resolved'));
    assert.equal(c.state, 'resolved');
    assert.equal(c.ctx.inbox.assignee, 'asha', 'a resolved chat keeps who had it');
    c.take();
    c.now += 10;
    c.send(customerSays('again'));
    assert.equal(c.state, 'active');
    assert.equal(c.ctx.inbox.conversation, 2);
    assert.equal(c.ctx.inbox.assignee, null);
    assert.equal(c.ctx.inbox.waitingSince, c.now);
    assert.deepEqual(c.take(), ['status.changed', 'conversation.opened', 'assignment.changed', 'message.appended', 'assignment.wanted']);
    c.send(setStatus('resolved', 'ravi')).send(setStatus('active', 'ravi'));
    assert.equal(c.ctx.inbox.assignee, 'ravi', 'an agent who reopens a chat has it');
  });

  it('logs the first agent response of each conversation once', () => {
    const c = new Chat().send(customerSays()).send(agentSays('asha')).send(agentSays('ravi'));
    assert.deepEqual(c.effects.filter((e) => e.type === 'conversation.responded').map((e) => [e.agent, e.conversation]), [['asha', 1]]);
  });

  it('refuses ASSIGN before the chat is open, and a round-robin decision that arrives after the chat left active', () => {
    const fresh = new Chat();
    const before = fresh.snap;
    fresh.send(autoAssign('asha'));
    assert.equal(fresh.snap, before);
    const pending = new Chat().send(customerSays()).send(setStatus('pending'));
    const waiting = pending.snap;
    pending.send(autoAssign('asha'));
    assert.equal(pending.snap, waiting, 'the assigner read the queue while it was active: too late now');
    pending.send(manual('asha'));
    assert.equal(pending.ctx.inbox.assignee, 'asha', 'an agent may still assign it');
  });
});

describe('chat machine: statuses and snooze', () => {
  it('moves to pending (waiting for the customer) and back to active when the customer writes', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha'));
    c.take();
    c.send(setStatus('pending'));
    assert.equal(c.state, 'pending');
    assert.equal(listingOf(c.snap.value), 'pending');
    assert.deepEqual(c.last('status.changed'), { type: 'status.changed', from: 'active', to: 'pending', by: 'asha', at: c.now, eventId: 'e3' });
    c.send(agentSays());
    assert.equal(c.state, 'pending', 'an agent message leaves it waiting for the customer');
    c.send(customerSays('back'));
    assert.equal(c.state, 'active');
    assert.equal(c.last('status.changed')?.to, 'active');
  });

  it('wakes a timed snooze at its time (a stored deadline) and joins the queue when nobody has it', () => {
    const c = new Chat().send(customerSays());
    c.take();
    const until = c.now + 3_600_000;
    c.send({ type: 'SNOOZE', by: 'asha', until });
    assert.equal(c.state, 'snoozed');
    assert.equal(c.ctx.inbox.snoozedUntil, until);
    assert.equal(c.ctx.inbox.waitingSince, null, 'a snoozed chat is not in the Unassigned queue');
    assert.deepEqual([...c.deadlines.values()].map((d) => d.due), [until], 'one deadline, at the snooze time');
    assert.deepEqual(c.take(), ['status.changed']);
    c.advance(3_600_000 - 1);
    assert.equal(c.state, 'snoozed', 'not a millisecond early');
    c.advance(1);
    assert.equal(c.state, 'active');
    assert.equal(c.ctx.inbox.snoozedUntil, null);
    assert.equal(c.ctx.statusUpdatedBy, 'snooze');
    assert.equal(c.ctx.inbox.waitingSince, until);
    assert.deepEqual(c.effects.map((e) => [e.type, e.to ?? '']), [['status.changed', 'active'], ['assignment.wanted', '']]);
    assert.equal(c.deadlines.size, 0);
  });

  it('wakes on the customer\'s next message first, and cancels the deadline', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha'));
    c.send({ type: 'SNOOZE', by: 'asha', until: c.now + 86_400_000 });
    c.advance(1000);
    c.take();
    c.send(customerSays('still waiting'));
    assert.equal(c.state, 'active');
    assert.equal(c.deadlines.size, 0, 'the wake-up deadline is gone');
    assert.equal(c.ctx.inbox.assignee, 'asha', 'the assignee keeps it');
    assert.deepEqual(c.take(), ['status.changed', 'message.appended']);
  });

  it('replaces the deadline when snoozed again, and snoozes without a time until the customer writes', () => {
    const c = new Chat().send(customerSays());
    c.send({ type: 'SNOOZE', by: 'asha', until: c.now + 1000 });
    c.send({ type: 'SNOOZE', by: 'asha', until: c.now + 5000 });
    assert.deepEqual([...c.deadlines.values()].map((d) => d.due), [c.now + 5000]);
    c.advance(1000);
    assert.equal(c.state, 'snoozed', 'the first time no longer wakes it');
    c.send({ type: 'SNOOZE', by: 'asha', until: null });
    assert.equal(c.state, 'snoozedUntilReply');
    assert.equal(c.deadlines.size, 0);
    assert.equal(listingOf(c.snap.value), 'snoozed');
    c.advance(30 * 86_400_000);
    assert.equal(c.state, 'snoozedUntilReply', 'only the customer (or an agent) wakes it');
    c.send(customerSays('hello?'));
    assert.equal(c.state, 'active');
  });

  it('refuses a snooze time in the past', () => {
    const c = new Chat().send(customerSays());
    const before = c.snap;
    c.send({ type: 'SNOOZE', by: 'asha', until: c.now - 1 });
    assert.equal(c.snap, before);
  });
});

describe('chat machine: notes and labels', () => {
  it('records a private note as a message that is never sent, and emits its mentions', () => {
    const c = new Chat().send(customerSays());
    const lastMessage = c.ctx.lastMessage;
    c.take();
    c.send({ type: 'NOTE', agent: 'asha', text: 'ask @ravi about the refund', mentions: ['ravi'] });
    assert.equal(c.ctx.lastSeq, 2);
    assert.equal(c.ctx.lastMessage, lastMessage, 'a note is not the chat\'s last message');
    assert.deepEqual(c.take(), ['message.appended', 'note.mentioned']);
    c.send({ type: 'NOTE', agent: 'asha', text: 'no mention', mentions: [] });
    const appended = c.effects[0] as unknown as { message: { body: { kind: string; extra: Record<string, unknown> } } };
    assert.equal(appended.message.body.kind, 'note');
    assert.deepEqual(appended.message.body.extra, { private: true, mentions: [] });
    assert.ok(!c.effects.some((e) => e.type === 'reply.requested'), 'nothing goes to WhatsApp');
  });

  it('adds and removes labels, once each, up to the bound', () => {
    const c = new Chat().send(customerSays());
    c.take();
    c.send({ type: 'LABEL', by: 'asha', label: 'refund', op: 'add' }).send({ type: 'LABEL', by: 'asha', label: 'refund', op: 'add' });
    assert.deepEqual(c.ctx.inbox.labels, ['refund']);
    assert.deepEqual(c.take(), ['labels.changed'], 'the same label twice is one change');
    c.send({ type: 'LABEL', by: 'asha', label: 'refund', op: 'remove' }).send({ type: 'LABEL', by: 'asha', label: 'nope', op: 'remove' });
    assert.deepEqual(c.ctx.inbox.labels, []);
    assert.deepEqual(c.take(), ['labels.changed']);
    for (let i = 0; i < MAX_LABELS + 3; i++) c.send({ type: 'LABEL', by: 'asha', label: `l${i}`, op: 'add' });
    assert.equal(c.ctx.inbox.labels.length, MAX_LABELS);
  });
});

describe('chat machine: CSAT', () => {
  const answer = (conversation: number, score: number) => customerSays(['', 'Poor', 'Okay', 'Good'][score], { interactiveReplyId: csatReplyId(conversation, score), interactiveType: 'button_reply' });

  it('asks for a rating with three reply buttons when resolved inside the 24-hour window, and records the answer', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha'));
    c.take();
    c.now += 60_000;
    c.send(setStatus('resolved'));
    assert.equal(c.state, 'rating');
    assert.equal(listingOf(c.snap.value), 'resolved');
    assert.deepEqual(c.take(), ['status.changed', 'message.appended', 'reply.requested', 'csat.asked']);
    assert.deepEqual(c.ctx.inbox.csat, { conversation: 1, status: 'asked', score: null, askedAt: c.now, ratedAt: null });
    const sent = (c.snap.context as ChatContext).lastSeq;
    assert.equal(sent, 2, 'the question is a message of the chat');
    c.now += 5000;
    c.send(answer(1, 3));
    assert.equal(c.state, 'resolved', 'the answer does not reopen the chat');
    assert.deepEqual(c.ctx.inbox.csat, { conversation: 1, status: 'rated', score: 3, askedAt: c.now - 5000, ratedAt: c.now });
    assert.deepEqual(c.take(), ['message.appended', 'csat.rated']);
    assert.equal(c.deadlines.size, 0, 'the rating wait ended');
  });

  it('builds the buttons as WhatsApp reply buttons (3 at most) carrying the conversation', () => {
    const c = new Chat().send(customerSays()).send(setStatus('resolved'));
    const reply = c.effects.find((e) => e.type === 'reply.requested') as unknown as { message: { body: { extra: { cloud: { interactive: { action: { buttons: { reply: { id: string; title: string } }[] } } } } } } };
    const buttons = reply.message.body.extra.cloud.interactive.action.buttons;
    assert.deepEqual(buttons.map((b) => [b.reply.id, b.reply.title]), [['csat:1:3', 'Good'], ['csat:1:2', 'Okay'], ['csat:1:1', 'Poor']]);
  });

  it('does not ask outside the 24-hour window', () => {
    const c = new Chat().send(customerSays());
    c.now += SERVICE_WINDOW_MS;
    c.take();
    c.send(setStatus('resolved'));
    assert.equal(c.state, 'resolved');
    assert.equal(c.ctx.inbox.csat, null);
    assert.deepEqual(c.take(), ['status.changed']);
  });

  it('stops waiting after RATING_WAIT (expired), and still counts a late tap without reopening', () => {
    const c = new Chat().send(customerSays()).send(setStatus('resolved'));
    c.advance(RATING_WAIT_MS - 1);
    assert.equal(c.state, 'rating');
    c.advance(1);
    assert.equal(c.state, 'resolved');
    assert.equal(c.ctx.inbox.csat?.status, 'expired');
    c.take();
    c.send(answer(1, 1));
    assert.equal(c.state, 'resolved');
    assert.equal(c.ctx.inbox.csat?.score, 1);
    assert.deepEqual(c.take(), ['message.appended', 'csat.rated']);
  });

  it('reopens on any other message, and an old question\'s button does not rate the next conversation', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha')).send(setStatus('resolved'));
    c.take();
    c.send(customerSays('one more thing'));
    assert.equal(c.state, 'active');
    assert.equal(c.ctx.inbox.conversation, 2);
    assert.equal(c.ctx.inbox.assignee, null);
    assert.equal(c.deadlines.size, 0, 'the rating wait was cancelled');
    c.send(setStatus('resolved'));
    assert.equal(c.ctx.inbox.csat?.conversation, 2);
    c.send(answer(1, 3));
    assert.equal(c.state, 'active', 'a button of conversation 1 is just a message: it reopens');
    assert.equal(c.ctx.inbox.csat?.status, 'asked');
  });
});

describe('chat machine: records stored before the team inbox', () => {
  it('completes an old context with the defaults and carries on', () => {
    const c = new Chat().send(customerSays());
    const { inbox: _inbox, ...old } = c.ctx;
    const restored = chatMachine.resolveState({ value: 'active', context: withInboxDefaults(JSON.parse(JSON.stringify(old)) as Partial<ChatContext>) });
    const [next] = transition(chatMachine, restored, { type: 'LABEL', id: 'l', at: 1, by: 'asha', label: 'vip', op: 'add' });
    assert.deepEqual((next.context as ChatContext).inbox.labels, ['vip']);
    assert.equal((next.context as ChatContext).inbox.conversation, 1);
  });

  it('moves the fields of a record stored with them at the top level into `inbox`', () => {
    const c = new Chat().send(customerSays()).send(autoAssign('asha'));
    const { inbox, ...rest } = c.ctx;
    const flat = withInboxDefaults(JSON.parse(JSON.stringify({ ...rest, ...inbox })) as Partial<ChatContext>);
    assert.deepEqual(flat, JSON.parse(JSON.stringify(c.ctx)));
    assert.equal('assignee' in flat, false);
  });

  it('keeps the context to 16 top-level fields, so XState\'s copy of it stays a fast object', () => {
    const c = new Chat().send(customerSays());
    assert.ok(Object.keys(c.ctx).length <= 16, `${Object.keys(c.ctx).length} fields`);
  });
});
