import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Assigner, nextAfter, type AssignmentPorts, type QueuedChat } from '../../src/actors/inbox/assigner.ts';
import { AgentAvailability } from '../../src/actors/inbox/availability.ts';
import { TeamsStore } from '../../src/actors/inbox/teams-store.ts';
import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

const log = pino({ level: 'silent' });

/** Chats waiting per number, and who took what: the chat actor's guard is played by `taken` (a chat is assigned once). */
function fakeChats(queued: { chatId: string; channel: string; waitingSince: number }[], loads: Record<string, number> = {}) {
  const taken = new Map<string, string>();
  const ports: AssignmentPorts = {
    queue: async (numbers, limit) =>
      queued
        .filter((c) => !taken.has(c.chatId) && ('channels' in numbers ? numbers.channels.includes(c.channel) : !numbers.exclude.includes(c.channel)))
        .sort((a, b) => a.waitingSince - b.waitingSince)
        .slice(0, limit),
    loads: async (agents) => new Map(agents.map((a) => [a, (loads[a] ?? 0) + [...taken.values()].filter((t) => t === a).length])),
    assign: async (chat: QueuedChat, agent) => {
      if (taken.has(chat.chatId)) return false;
      taken.set(chat.chatId, agent);
      return true;
    },
  };
  return { ports, taken };
}

async function setup(agents: { name: string; status: 'online' | 'busy' | 'offline'; connected?: boolean }[], cap: number) {
  const store = new MemoryStore();
  const kv = new MemoryKv();
  const rooms = { publish: () => undefined };
  const availability = new AgentAvailability({ store, kv, rooms, log, offlineAfterMs: 60_000 });
  for (const a of agents) {
    if (a.connected !== false) await availability.socketOpened(a.name);
    await availability.set(a.name, a.status);
  }
  const teams = new TeamsStore(store, cap);
  return { store, kv, availability, teams };
}

describe('round-robin assigner', () => {
  it('picks the next agent after the last one, cyclically', () => {
    assert.equal(nextAfter(['a', 'b', 'c'], null), 'a');
    assert.equal(nextAfter(['a', 'b', 'c'], 'a'), 'b');
    assert.equal(nextAfter(['a', 'b', 'c'], 'c'), 'a');
    assert.equal(nextAfter(['a', 'c'], 'b'), 'c', 'the last one may have left the eligible list');
    assert.equal(nextAfter([], 'a'), undefined);
  });

  it('gives the longest-waiting chats to online agents in turn, up to the cap, and leaves the rest waiting', async () => {
    const s = await setup([{ name: 'ann', status: 'online' }, { name: 'bob', status: 'online' }, { name: 'cat', status: 'busy' }, { name: 'dan', status: 'online', connected: false }], 2);
    const chats = fakeChats(Array.from({ length: 6 }, (_, i) => ({ chatId: `c${i}`, channel: '9099039188', waitingSince: 100 - i })), { bob: 1 });
    const assigner = new Assigner({ teams: s.teams, availability: s.availability, kv: s.kv, ports: chats.ports, pod: 'p1', log });
    assert.equal(await assigner.pass(), 3, 'ann two, bob one more (it had one): the cap');
    assert.deepEqual(Object.fromEntries(chats.taken), { c5: 'ann', c4: 'bob', c3: 'ann' }, 'oldest first; busy cat and socketless dan skipped');
    assert.equal(await assigner.pass(), 0, 'everyone at the cap: the rest wait');
  });

  it('keeps each team to its numbers and agents; numbers of no team go to every online agent', async () => {
    const s = await setup([{ name: 'ann', status: 'online' }, { name: 'bob', status: 'online' }], 10);
    await s.teams.put({ id: 'partners', name: 'Partners', agents: ['bob'], numbers: ['9099039188'] });
    const chats = fakeChats([{ chatId: 'p1', channel: '9099039188', waitingSince: 1 }, { chatId: 'p2', channel: '9099039188', waitingSince: 2 }, { chatId: 'c1', channel: '8000247247', waitingSince: 3 }]);
    const assigner = new Assigner({ teams: s.teams, availability: s.availability, kv: s.kv, ports: chats.ports, pod: 'p1', log });
    await assigner.pass();
    assert.equal(chats.taken.get('p1'), 'bob');
    assert.equal(chats.taken.get('p2'), 'bob');
    assert.ok(['ann', 'bob'].includes(chats.taken.get('c1')!));
  });

  it('continues the round robin where another pod left it, and passes only while holding the lock', async () => {
    const s = await setup([{ name: 'ann', status: 'online' }, { name: 'bob', status: 'online' }], 10);
    const chats = fakeChats([{ chatId: 'x', channel: '8000247247', waitingSince: 1 }, { chatId: 'y', channel: '8000247247', waitingSince: 2 }]);
    const onePod = new Assigner({ teams: s.teams, availability: s.availability, kv: s.kv, ports: chats.ports, pod: 'p1', log, batch: 1 });
    const otherPod = new Assigner({ teams: s.teams, availability: s.availability, kv: s.kv, ports: chats.ports, pod: 'p2', log, batch: 1 });
    await onePod.pass();
    await otherPod.pass();
    assert.deepEqual(Object.fromEntries(chats.taken), { x: 'ann', y: 'bob' });
    assert.notEqual(await s.kv.acquireLock('inbox:assigner', 'p3', 10_000), null);
    assert.equal(await onePod.pass(), 0, 'another pod holds the lock: nothing assigned here');
    await onePod.stop();
    await otherPod.stop();
  });
});
