import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { AgentAvailability } from '../../src/actors/inbox/availability.ts';
import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

describe('agent availability', () => {
  it('is offline 60 s after the last socket closed on any pod, and the next socket restores what the agent had', async () => {
    let now = 1_000_000;
    const kv = new MemoryKv(() => now);
    const store = new MemoryStore();
    const pushes: unknown[] = [];
    const rooms = { publish: (_room: string, event: string, data: unknown) => void pushes.push({ event, data }) };
    const log = pino({ level: 'silent' });
    // Two pods' bookkeeping over the same Redis and MongoDB.
    const podA = new AgentAvailability({ store, kv, rooms, log, offlineAfterMs: 60_000, now: () => now });
    const podB = new AgentAvailability({ store, kv, rooms, log, offlineAfterMs: 60_000, now: () => now });
    await podA.socketOpened('asha');
    assert.equal(await podA.statusOf('asha'), 'online', 'a first socket ever: online');
    await podA.set('asha', 'busy');
    await podB.socketOpened('asha');
    await podA.socketClosed('asha');
    now += 120_000;
    await podB.heartbeat(); // its socket on pod B keeps it alive
    assert.deepEqual(await podA.sweep(), []);
    await podB.socketClosed('asha');
    now += 59_999;
    assert.deepEqual(await podA.sweep(), [], 'not a moment early');
    assert.deepEqual(await podA.available(), []);
    now += 1;
    assert.deepEqual(await podA.sweep(), ['asha']);
    assert.equal(await podB.statusOf('asha'), 'offline');
    assert.deepEqual(pushes.at(-1), { event: 'agent_availability', data: { agent: 'asha', status: 'offline', at: new Date(now).toISOString() } });
    await podB.socketOpened('asha');
    assert.equal(await podA.statusOf('asha'), 'busy', 'what the server took away comes back');
    await podA.set('asha', 'online');
    assert.deepEqual(await podA.available(), ['asha']);
  });
  it('never overwrites a status the agent sets while its first socket is being recorded (set offline right after connecting)', async () => {
    const store = new MemoryStore();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Reads answer late (a loaded store): the agent's own toggle lands between a read and the write that follows it.
    const slow = Object.assign(Object.create(store) as MemoryStore, {
      collection: (name: string) => {
        const c = store.collection(name);
        return Object.assign(Object.create(c) as typeof c, { findOne: async (...a: Parameters<typeof c.findOne>) => { const found = await c.findOne(...a); await sleep(30); return found; } });
      },
    });
    const pushes: { event: string; data: { status: string } }[] = [];
    const availability = new AgentAvailability({ store: slow, kv: new MemoryKv(), rooms: { publish: (_r: string, event: string, data: unknown) => void pushes.push({ event, data: data as { status: string } }) }, log: pino({ level: 'silent' }), offlineAfterMs: 60_000 });
    await Promise.all([availability.socketOpened('ravi'), sleep(5).then(() => availability.set('ravi', 'offline'))]);
    assert.equal(await availability.statusOf('ravi'), 'offline');
    assert.deepEqual(await availability.available(), []);
    assert.equal(pushes.at(-1)?.data.status, 'offline', 'the last push agrees');
  });
});
