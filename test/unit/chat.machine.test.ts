import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { MAX_READERS, SERVICE_WINDOW_MS, chatMachine, insideServiceWindow, listingOf, type ChatContext, type ChatEvent } from '../../src/machines/chat.machine.ts';
import { pureTransition } from '../../src/actors/runtime/pure-transition.ts';
import { sameTransition } from '../support/same-transition.ts';

const hostTransition = pureTransition(chatMachine);

const input = { chatId: 'c1', customer: '9876543210', customerType: 'Customer' as const, channel: '8000247247', at: 1000 };
const customer = (id: string, at: number, text = 'hi'): ChatEvent => ({ type: 'CUSTOMER_MESSAGE', id, at, channel: '8000247247', customerType: 'Customer', name: 'Asha', body: { kind: 'text', text, waMessageId: id } });
const agent = (id: string, at: number, who = 'agent-1'): ChatEvent => ({ type: 'AGENT_MESSAGE', id, at, agent: who, body: { kind: 'text', text: `reply ${id}` } });
const status = (s: 'active' | 'resolved', at: number, by = 'agent-1'): ChatEvent => ({ type: 'SET_STATUS', id: `s${at}`, at, by, status: s });

/** Runs events through pure transitions, collecting every emitted effect. */
function run(events: ChatEvent[], from?: AnyMachineSnapshot) {
  let snap = from ?? initialTransition(chatMachine, input)[0];
  const effects: { type: string; [k: string]: unknown }[] = [];
  for (const e of events) {
    const [next, actions] = transition(chatMachine, snap, e);
    sameTransition([next, actions], hostTransition(snap, e)); // the actor host's transition agrees with XState's
    for (const a of actions as { type: string; params?: unknown }[]) if (a.type === 'xstate.emit') effects.push((a.params as { event: { type: string } }).event);
    snap = next;
  }
  return { snap, ctx: snap.context as ChatContext, effects };
}

/** Effects of #18 (team inbox: conversations, assignment, CSAT question) are left out, for the tests of what came before. */
const INBOX_EFFECTS = new Set(['conversation.opened', 'conversation.responded', 'assignment.changed', 'assignment.wanted', 'csat.asked', 'csat.rated', 'labels.changed', 'note.mentioned']);
function core<T extends { type: string; [k: string]: unknown }>(effects: T[]): T[] {
  return effects.filter((e) => !INBOX_EFFECTS.has(e.type) && (e.message as { sender?: string } | undefined)?.sender !== 'csat');
}

describe('chat machine', () => {
  it("takes a free-form agent reply only inside WhatsApp's 24-hour window, and a template at any time", () => {
    const last = 2000;
    const opened = run([customer('m1', last)]);
    const inside = run([agent('a1', last + SERVICE_WINDOW_MS - 1)], opened.snap);
    assert.equal(inside.ctx.lastSeq, 2);
    assert.deepEqual(core(inside.effects).map((e) => e.type), ['message.appended', 'reply.requested']);
    const outside = run([agent('a2', last + SERVICE_WINDOW_MS)], opened.snap);
    assert.equal(outside.ctx.lastSeq, 1, 'nothing recorded');
    assert.deepEqual(outside.effects, [], 'nothing sent');
    const template: ChatEvent = { type: 'AGENT_MESSAGE', id: 't1', at: last + 10 * SERVICE_WINDOW_MS, agent: 'agent-1', body: { kind: 'template', text: 'Template: x (hi)' } };
    assert.deepEqual(core(run([template], opened.snap).effects).map((e) => e.type), ['message.appended', 'reply.requested']);
    const neverWrote = run([{ type: 'OPEN', id: 'o', at: 1000, by: 'agent-1', channel: '8000247247', customerType: 'Customer' }, agent('a3', 1500)]);
    assert.equal(neverWrote.ctx.lastSeq, 0, 'a chat the customer never wrote in takes templates only');
    assert.equal(insideServiceWindow(null, 0), false);
  });

  it('stays new and emits nothing until a message or an agent opens it', () => {
    const { snap, effects } = run([status('resolved', 2000), { type: 'READ', id: 'r', at: 2000, agent: 'a' }]);
    assert.equal(snap.value, 'new');
    assert.deepEqual(effects, []);
  });

  it('opens on the first customer message, recording it as seq 1', () => {
    const { snap, ctx, effects: all } = run([customer('m1', 2000, 'Need a cab')]);
    const effects = core(all);
    assert.equal(snap.value, 'active');
    assert.equal(ctx.lastSeq, 1);
    assert.equal(ctx.customerName, 'Asha');
    assert.equal(ctx.lastCustomerMessageAt, 2000);
    assert.deepEqual(effects.map((e) => e.type), ['chat.opened', 'message.appended']);
    assert.deepEqual(effects[1], { type: 'message.appended', message: { seq: 1, id: 'm1', sender: '9876543210', type: 'Customer', channel: '8000247247', at: 2000, body: { kind: 'text', text: 'Need a cab', waMessageId: 'm1' } } });
  });

  it('numbers messages from both sides in order and asks WhatsApp to carry agent replies', () => {
    const { ctx, effects } = run([customer('m1', 1), agent('a1', 2), customer('m2', 3)]);
    const appended = effects.filter((e) => e.type === 'message.appended').map((e) => (e.message as { seq: number; type: string }));
    assert.deepEqual(appended.map((m) => [m.seq, m.type]), [[1, 'Customer'], [2, 'Agent'], [3, 'Customer']]);
    assert.equal(effects.filter((e) => e.type === 'reply.requested').length, 1);
    assert.equal(ctx.lastMsgBy, '9876543210');
    assert.deepEqual(ctx.reads, [{ agent: 'agent-1', seq: 2 }], 'an agent has read what it replied to');
  });

  it('resolves with audit fields, and the customer reopens it', () => {
    const resolved = run([customer('m1', 1), status('resolved', 5, 'lead')]);
    assert.equal(listingOf(resolved.snap.value), 'resolved');
    assert.equal(resolved.ctx.statusUpdatedBy, 'lead');
    assert.equal(resolved.ctx.statusUpdatedAt, 5);
    assert.deepEqual(core(resolved.effects).at(-1), { type: 'status.changed', from: 'active', to: 'resolved', by: 'lead', at: 5, eventId: 's5' });

    const reopened = run([customer('m2', 9)], resolved.snap);
    assert.equal(reopened.snap.value, 'active');
    assert.equal(reopened.ctx.statusUpdatedBy, '9876543210');
    assert.deepEqual(core(reopened.effects).map((e) => e.type), ['status.changed', 'message.appended']);
    assert.equal(core(reopened.effects)[0]?.to, 'active');
  });

  it('lets an agent reopen a resolved chat, and ignores setting the status it already has', () => {
    const r = run([customer('m1', 1), status('active', 2), status('resolved', 3), status('resolved', 4), status('active', 5)]);
    assert.equal(r.snap.value, 'active');
    assert.deepEqual(r.effects.filter((e) => e.type === 'status.changed').map((e) => e.to), ['resolved', 'active']);
  });

  it('keeps an agent reply on a resolved chat resolved', () => {
    // Resolved outside the 24-hour window (no rating question): a template reply leaves it resolved.
    const late = 1 + SERVICE_WINDOW_MS;
    const r = run([customer('m1', 1), status('resolved', late), { type: 'AGENT_MESSAGE', id: 't1', at: late + 1, agent: 'agent-1', body: { kind: 'template', text: 'Template: x (hi)' } }]);
    assert.equal(r.snap.value, 'resolved');
    assert.equal(r.ctx.lastSeq, 2);
  });

  it('moves read cursors forward only, and bounds how many it keeps', () => {
    const base = run([customer('m1', 1), customer('m2', 2)]);
    const read = run([{ type: 'READ', id: 'r1', at: 3, agent: 'x' }], base.snap);
    assert.deepEqual(read.ctx.reads, [{ agent: 'x', seq: 2 }]);
    const many = run(Array.from({ length: MAX_READERS + 5 }, (_, i): ChatEvent => ({ type: 'READ', id: `r${i}`, at: 4, agent: `agent-${i}` })), read.snap);
    assert.equal(many.ctx.reads.length, MAX_READERS);
  });

  it('reads up to a shown message, never past the last one, and takes no read that moves nothing', () => {
    const base = run([customer('m1', 1), customer('m2', 2), customer('m3', 3)]);
    const shown = run([{ type: 'READ', id: 'r1', at: 4, agent: 'x', upTo: 2 }], base.snap);
    assert.deepEqual(shown.ctx.reads, [{ agent: 'x', seq: 2 }]);
    const [same] = transition(chatMachine, shown.snap, { type: 'READ', id: 'r2', at: 5, agent: 'x', upTo: 1 });
    assert.equal(same, shown.snap, 'an older read is not a transition (nothing is stored)');
    assert.deepEqual(run([{ type: 'READ', id: 'r3', at: 6, agent: 'x', upTo: 99 }], shown.snap).ctx.reads, [{ agent: 'x', seq: 3 }]);
  });

  it('reports delivery statuses as effects without changing state', () => {
    const base = run([customer('m1', 1)]);
    const r = run([{ type: 'DELIVERY', id: 'd', at: 2, waMessageId: 'wamid.X', status: 'read' }], base.snap);
    assert.equal(r.snap.value, 'active');
    assert.deepEqual(r.effects, [{ type: 'delivery.recorded', waMessageId: 'wamid.X', status: 'read', at: 2 }]);
  });

  it('is pure data that survives JSON: a restored snapshot continues where it stopped', () => {
    const r = run([customer('m1', 1), status('resolved', 2)]);
    const stored = JSON.parse(JSON.stringify({ value: r.snap.value, context: r.snap.context }));
    const restored = chatMachine.resolveState(stored);
    const next = run([customer('m2', 3)], restored);
    assert.equal(next.snap.value, 'active');
    assert.equal(next.ctx.lastSeq, 3, 'the customer message, the rating question, the second message');
  });
});

describe('chat machine: conversations with the discount bot', () => {
  const toBot = (id: string, at: number, text = 'hello'): ChatEvent => ({ type: 'CUSTOMER_MESSAGE', id, at, channel: '9638120888', customerType: 'Customer', name: 'Ravi', automated: true, body: { kind: 'text', text } });
  const botReply = (id: string, at: number): ChatEvent => ({ type: 'BOT_MESSAGE', id, at, bot: 'discount-bot', channel: '9638120888', body: { kind: 'text', text: 'bot says' } });
  const handover = (id: string, at: number): ChatEvent => ({ type: 'HANDOVER', id, at, by: 'discount-bot', channel: '9638120888', customerType: 'Customer' });
  const partner = (id: string, at: number): ChatEvent => ({ type: 'CUSTOMER_MESSAGE', id, at, channel: '9099039188', customerType: 'Partner', name: 'Raju', body: { kind: 'text', text: 'trip issue' } });

  it('keeps a chat only the bot has had out of the agents: state bot, never opened or counted', () => {
    const { snap, ctx, effects } = run([toBot('m1', 2000), botReply('b1', 2001), toBot('m2', 2002)]);
    assert.equal(snap.value, 'bot');
    assert.equal(ctx.lastSeq, 3);
    assert.equal(ctx.botMessages, 1);
    assert.deepEqual(effects.map((e) => e.type), ['message.appended', 'message.appended', 'message.appended'], 'no chat.opened: the Active count is untouched');
    assert.equal(run([status('resolved', 3000)], snap).snap.value, 'bot', 'nothing for an agent to resolve');
  });

  it('joins the agents on a handover, counted once, with the bot conversation as its history', () => {
    const bot = run([toBot('m1', 2000), botReply('b1', 2001)]);
    const { snap, ctx, effects } = run([handover('h1', 2002)], bot.snap);
    assert.equal(snap.value, 'active');
    assert.equal(ctx.lastSeq, 2);
    assert.equal(ctx.channel, '9638120888', 'agents reply from the number the customer wrote to');
    assert.deepEqual(core(effects).map((e) => e.type), ['chat.opened', 'chat.handedOver']);
    assert.deepEqual(run([handover('h2', 2003)], snap).effects, [], 'already with agents: nothing');
    const reopened = run([status('resolved', 3000), handover('h3', 4000)], snap);
    assert.equal(reopened.snap.value, 'active');
    assert.deepEqual(core(reopened.effects).map((e) => `${e.type}:${e.to ?? ''}`), ['status.changed:resolved', 'status.changed:active', 'chat.handedOver:']);
  });

  it('becomes an agents\' chat when an agent writes in it or the customer writes to a human channel', () => {
    const bot = run([toBot('m1', 2000)]);
    assert.equal(run([agent('a1', 2001)], bot.snap).snap.value, 'active');
    assert.deepEqual(core(run([agent('a1', 2001)], bot.snap).effects).map((e) => e.type), ['chat.opened', 'message.appended', 'reply.requested']);
    const human = run([customer('c1', 2001)], bot.snap);
    assert.equal(human.snap.value, 'active');
    assert.equal(human.ctx.channel, '8000247247', 'agents reply from the human number the customer wrote to');
  });

  it('keeps its stakeholder type for life: neither a message nor an agent opening it as another type changes it', () => {
    const partnerChat = initialTransition(chatMachine, { ...input, customerType: 'Partner', channel: '9099039188' })[0];
    const opened = run([partner('p1', 2000), { type: 'OPEN', id: 'o1', at: 2001, by: 'agent-1', channel: '8000247247', customerType: 'Customer' }], partnerChat);
    assert.equal(opened.ctx.customerType, 'Partner');
    assert.equal(run([customer('c1', 2002)], opened.snap).ctx.customerType, 'Partner');
  });

  it('neither reopens nor moves an agents\' chat, nor opens its 24-hour window, when the customer writes to the bot', () => {
    const active = run([customer('c1', 2000), toBot('m1', 3000), botReply('b1', 3001)]);
    assert.equal(active.snap.value, 'active');
    assert.equal(active.ctx.channel, '8000247247', 'agent replies still go from the number agents use');
    assert.equal(active.ctx.lastCustomerMessageAt, 2000, 'the human number\'s 24-hour window is its own');
    const appended = active.effects.filter((e) => e.type === 'message.appended').map((e) => (e.message as { channel: string }).channel);
    assert.deepEqual(appended, ['8000247247', '9638120888', '9638120888'], 'each message keeps the number it went through');
    const resolved = run([status('resolved', 4000), toBot('m2', 5000)], active.snap);
    assert.equal(listingOf(resolved.snap.value), 'resolved', 'a word to the bot does not reopen it');
  });

  it('remembers how many bot replies each read cursor had seen, so they never count as unseen', () => {
    const { ctx } = run([toBot('m1', 2000), botReply('b1', 2001), handover('h', 2002), { type: 'READ', id: 'r', at: 2003, agent: 'a' }, botReply('b2', 2004)]);
    assert.deepEqual(ctx.reads, [{ agent: 'a', seq: 2, bot: 1 }]);
    assert.equal(ctx.botMessages, 2);
  });
});
