import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { assign, emit, setup } from 'xstate';
import type { ActorEvent, ActorKind, ActorRecord } from '../../src/actors/actor-kind.ts';
import { ActorConflictError, ActorHost, MailboxFullError } from '../../src/actors/host.ts';

const log = pino({ level: 'silent' });

type E = ActorEvent & ({ type: 'ADD'; n: number } | { type: 'ARM' } | { type: 'STOP' });

/** A small counter machine with a delayed transition, to exercise the host alone. */
const counter = setup({
  types: { context: {} as { total: number; log: number[] }, events: {} as E, emitted: {} as { type: 'added'; total: number } },
  actions: {
    add: assign(({ context, event }) => (event.type === 'ADD' ? { total: context.total + event.n, log: [...context.log, event.n] } : {})),
    tell: emit(({ context }) => ({ type: 'added' as const, total: context.total })),
  },
  delays: { LATER: 200 },
}).createMachine({
  id: 'counter',
  initial: 'open',
  context: { total: 0, log: [] },
  states: {
    open: { on: { ADD: { actions: ['add', 'tell'] }, ARM: 'armed' } },
    armed: { after: { LATER: 'expired' }, on: { STOP: 'open' } },
    expired: { type: 'final' },
  },
});

/** A kind backed by a plain Map, recording every save and effect run. */
function memoryKind(opts: { slowMs?: number; failExecute?: () => boolean } = {}) {
  const records = new Map<string, ActorRecord>();
  const executed: unknown[] = [];
  let saves = 0;
  const kind: ActorKind = {
    name: 'counter',
    machine: counter,
    schema: 1,
    input: () => undefined,
    load: async (key) => structuredClone(records.get(key) ?? null),
    save: async (key, record, expected) => {
      if ((records.get(key)?.version ?? 0) !== expected) return false;
      saves++;
      records.set(key, structuredClone(record));
      return true;
    },
    execute: async (_key, effects) => {
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      if (opts.failExecute?.()) throw new Error('effect failed');
      executed.push(...effects);
    },
    dueKeys: async (now) => [...records].filter(([, r]) => r.deadlines.some((d) => d.due <= now)).map(([k]) => k),
  };
  return { kind, records, executed, saves: () => saves };
}

const add = (id: string, n: number, at = Date.now()): E => ({ type: 'ADD', id, at, n });

describe('actor host', () => {
  it('applies events to one actor one at a time, in the order they were sent', async () => {
    const { kind, records } = memoryKind({ slowMs: 2 });
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => host.send('counter', 'k', add(`e${i}`, i))));
    const stored = records.get('k')!;
    assert.deepEqual((stored.state.context as { log: number[] }).log, Array.from({ length: 30 }, (_, i) => i));
    assert.equal(stored.version, 30);
    await host.stop();
  });

  it('stores the new state before running its effects', async () => {
    const { kind, records } = memoryKind();
    const seen: number[] = [];
    kind.execute = async () => void seen.push(records.get('k')!.version);
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await host.send('counter', 'k', add('a', 1));
    await host.send('counter', 'k', add('b', 1));
    assert.deepEqual(seen, [1, 2]);
    await host.stop();
  });

  it('applies an event id once, answering a redelivery as a duplicate', async () => {
    const { kind, executed } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    const first = await host.send('counter', 'k', add('same', 5));
    const again = await host.send('counter', 'k', add('same', 5));
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal((again.context as { total: number }).total, 5);
    assert.equal(executed.length, 1);
    await host.stop();
  });

  it('stores nothing for an event the current state does not handle', async () => {
    const { kind, saves } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    const d = await host.send('counter', 'k', { type: 'STOP', id: 'x', at: Date.now() });
    assert.equal(d.handled, false);
    assert.equal(saves(), 0);
    await host.stop();
  });

  it('passivates idle actors and restores them from the stored record with their state', async () => {
    const { kind } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 1000 });
    await host.send('counter', 'k', add('a', 2));
    assert.equal(host.residentCount, 1);
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal(host.residentCount, 0, 'idle actor dropped from memory');
    const d = await host.send('counter', 'k', add('b', 3));
    assert.equal((d.context as { total: number }).total, 5);
    assert.equal(host.residentCount, 1);
    await host.stop();
  });

  it('runs effects a crash left pending when the actor is next activated, then clears them', async () => {
    const { kind, records, executed } = memoryKind();
    let fail = true;
    kind.execute = async (_k, effects) => {
      if (fail) throw new Error('crash before effects ran');
      executed.push(...effects);
    };
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await assert.rejects(host.send('counter', 'k', add('a', 7)), /crash before effects/);
    assert.deepEqual(records.get('k')!.pending, [{ type: 'added', total: 7 }], 'state and its pending effects were stored');
    fail = false;
    await host.send('counter', 'k', add('b', 1));
    assert.deepEqual(executed, [{ type: 'added', total: 7 }, { type: 'added', total: 8 }]);
    await host.stop();
  });

  it('refuses to overwrite a record another writer moved on (fencing), then reloads', async () => {
    const { kind, records } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await host.send('counter', 'k', add('a', 1));
    const theirs = records.get('k')!;
    records.set('k', { ...theirs, version: theirs.version + 1, state: { ...theirs.state, context: { total: 100, log: [] } } });
    await assert.rejects(host.send('counter', 'k', add('b', 1)), ActorConflictError);
    const d = await host.send('counter', 'k', add('c', 1));
    assert.equal((d.context as { total: number }).total, 101, 'the next event starts from the newer stored state');
    await host.stop();
  });

  it('fails the events queued behind a failed one, so none of them overtakes it', async () => {
    const { kind, records } = memoryKind({ slowMs: 5 });
    const save = kind.save;
    let failNext = true;
    kind.save = async (key, record, expected) => {
      if (failNext && (record.state.context as { log: number[] }).log.at(-1) === 2) {
        failNext = false;
        throw new Error('store hiccup');
      }
      return save(key, record, expected);
    };
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    const results = await Promise.all([1, 2, 3, 4].map((n) => host.send('counter', 'k', add(`e${n}`, n)).then(() => 'ok', (e: Error) => e.message)));
    assert.equal(results[0], 'ok');
    assert.equal(results[1], 'store hiccup');
    assert.match(String(results[2]), /an earlier event failed/);
    assert.match(String(results[3]), /an earlier event failed/);
    // The sender retries in order: 2, then 3 and 4.
    for (const n of [2, 3, 4]) await host.send('counter', 'k', add(`e${n}`, n));
    assert.deepEqual((records.get('k')!.state.context as { log: number[] }).log, [1, 2, 3, 4]);
    await host.stop();
  });

  it('bounds each mailbox', async () => {
    const { kind } = memoryKind({ slowMs: 20 });
    const host = new ActorHost([kind], { log, idleMs: 60_000, maxMailbox: 3 });
    const sends = Array.from({ length: 6 }, (_, i) => host.send('counter', 'k', add(`e${i}`, 1)).then(() => 'ok', (e: unknown) => e));
    const results = await Promise.all(sends);
    assert.ok(results.some((r) => r instanceof MailboxFullError));
    assert.ok(results.filter((r) => r === 'ok').length >= 3);
    await host.stop();
  });

  it('keeps a delayed transition as a stored deadline and fires it, also after a restart', async () => {
    const { kind, records } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await host.send('counter', 'live', { type: 'ARM', id: 'arm', at: Date.now() });
    assert.equal(records.get('live')!.deadlines.length, 1);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(records.get('live')!.state.value, 'expired', 'fired by the resident timer');
    assert.deepEqual(records.get('live')!.deadlines, []);

    await host.send('counter', 'restarted', { type: 'ARM', id: 'arm', at: Date.now() });
    await host.stop(); // the pod goes away with the deadline pending
    const fresh = new ActorHost([kind], { log, idleMs: 60_000 });
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(await fresh.fireDueDeadlines(), 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(records.get('restarted')!.state.value, 'expired', 'fired by the new host from the stored deadline');
    assert.equal(await fresh.fireDueDeadlines(), 0);
    await fresh.stop();
  });

  it('leaves a deadline further off than a timer can wait to the due-deadline poll, instead of firing it at once', async () => {
    const { kind, records } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    const farOff = Date.now() + 30 * 86_400_000; // setTimeout fires anything over ~24.8 days immediately
    await host.send('counter', 'k', { type: 'ARM', id: 'arm', at: farOff });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(records.get('k')!.state.value, 'armed');
    assert.equal(await host.fireDueDeadlines(), 0, 'not due yet');
    await host.stop();
  });

  it('cancels a deadline when the state that set it is left', async () => {
    const { kind, records } = memoryKind();
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await host.send('counter', 'k', { type: 'ARM', id: 'arm', at: Date.now() });
    await host.send('counter', 'k', { type: 'STOP', id: 'stop', at: Date.now() });
    assert.deepEqual(records.get('k')!.deadlines, []);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(records.get('k')!.state.value, 'open');
    await host.stop();
  });
});
