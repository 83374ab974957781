/** What agents receive for a chat (lists and `room_update*` pushes): `chatOut` over a stored chat document. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatOut, chatSummary } from '../../src/actors/chat/chat-views.ts';
import { newInbox } from '../../src/machines/chat.machine.ts';
import { chatContext } from '../support/chat-context.ts';

const context = chatContext({
  reads: [{ agent: 'a1', seq: 2 }],
  botMessages: 1,
  inbox: { ...newInbox(), waitingSince: Date.UTC(2026, 11, 4, 10, 0, 0), labels: ['vip'] },
});

describe('chatOut', () => {
  it('shows the summary without the record and the query bookkeeping, times as ISO and IST text, in the stored order', () => {
    const stored = { _id: 'c1', ...chatSummary(context, 'active', { state: { value: 'active', context }, deadlines: [{ id: 'd', event: { type: 'X' }, due: 1 }] }), actor: { version: 3 } };
    const out = chatOut(stored);
    for (const hidden of ['actor', 'read_cursors', 'last_customer_message_at', 'bot_messages', 'deadline_at', 'last_inbound_wa_id']) assert.ok(!(hidden in out), hidden);
    assert.equal(out.chat_id, 'c1');
    assert.equal(out.last_message_time, '2026-12-04T10:05:00.000Z');
    assert.equal(out.last_message_time_ist, '04/12/2026, 15:35:00');
    assert.equal(out.created_at, '2026-12-04T10:00:00.000Z');
    assert.equal(out.waiting_since, '2026-12-04T10:00:00.000Z');
    assert.equal(out.status_updated_at, null);
    assert.deepEqual(out.labels, ['vip']);
    // Stored fields first, in their order (replaced values keep their place), then what only the view adds.
    const shown = Object.keys(stored).filter((k) => !['actor', 'read_cursors', 'last_customer_message_at', 'bot_messages', 'deadline_at', 'last_inbound_wa_id'].includes(k));
    assert.deepEqual(Object.keys(out), [...shown, 'chat_id', 'last_message_time_ist']);
  });

  it('gives a chat stored before the team inbox its defaults, and keeps a `__proto__` field from reaching the prototype', () => {
    const old = JSON.parse('{"_id":"c0","customer":"9800000001","status":"active","last_message_time":null,"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const out = chatOut(old);
    assert.equal(out.assignee, null);
    assert.equal(out.team, null);
    assert.deepEqual(out.labels, []);
    assert.equal(out.conversation, 1);
    assert.equal(out.csat, null);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal((out as { polluted?: unknown }).polluted, undefined);
  });
});
