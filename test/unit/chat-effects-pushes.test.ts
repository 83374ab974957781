/** The chat effects build a push only for a room someone can hear; the message is stored either way. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { chatEffects } from '../../src/actors/chat/chat.effects.ts';
import type { DashboardCounters } from '../../src/actors/chat/dashboard-counters.ts';
import { DASHBOARD_ROOM, type RoomPublisher } from '../../src/actors/runtime/room-publisher.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import type { ChatEffect } from '../../src/machines/chat.machine.ts';
import { chatContext } from '../support/chat-context.ts';

const context = chatContext({ lastSeq: 1 });

const appended = (seq: number): ChatEffect => ({
  type: 'message.appended',
  message: { seq, id: `msg:wamid.${seq}`, sender: context.customer, type: 'Customer', channel: context.channel, at: Date.UTC(2026, 11, 4, 10, 5, 0), body: { kind: 'text', text: `hello ${seq}` } },
});

/** Records pushes; `audience` is who can hear (undefined: a publisher that cannot tell). */
function recorder(audience?: Set<string>): RoomPublisher & { pushes: { room: string; event: string }[] } {
  const pushes: { room: string; event: string }[] = [];
  return {
    pushes,
    publish: (room, event) => void pushes.push({ room, event }),
    ...(audience ? { reaches: (room: string) => audience.has(room) } : {}),
  };
}

function effectsWith(rooms: RoomPublisher, store = new MemoryStore()) {
  const counters = { change: async () => undefined } as unknown as DashboardCounters;
  return { store, execute: chatEffects({ store, rooms, counters, outbound: { send: async () => undefined }, log: pino({ level: 'silent' }) }) };
}

describe('chat effects: pushes', () => {
  it('store a message without building a push when nobody is in the chat room or on a dashboard', async () => {
    const rooms = recorder(new Set());
    const { store, execute } = effectsWith(rooms);
    await execute('k', [appended(1)], context, 'active');
    assert.deepEqual(rooms.pushes, []);
    assert.equal((await store.collection('messages').find({ chat_id: 'c1' })).length, 1);
  });

  it('push to exactly the rooms someone hears', async () => {
    const dashboardOnly = recorder(new Set([DASHBOARD_ROOM]));
    await effectsWith(dashboardOnly).execute('k', [appended(1)], context, 'active');
    assert.deepEqual(dashboardOnly.pushes.map((p) => p.room), [DASHBOARD_ROOM]);

    const chatOnly = recorder(new Set(['c1']));
    await effectsWith(chatOnly).execute('k', [appended(1)], context, 'active');
    assert.deepEqual(chatOnly.pushes, [{ room: 'c1', event: 'new_message' }]);
  });

  it('push everything through a publisher that cannot tell who hears', async () => {
    const rooms = recorder();
    await effectsWith(rooms).execute('k', [appended(1)], context, 'active');
    assert.deepEqual(rooms.pushes.map((p) => p.room).sort(), ['c1', DASHBOARD_ROOM].sort());
  });
});
