import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { assign, emit, setup } from 'xstate';
import type { ActorEvent, ActorKind, ActorRecord } from '../../src/actors/runtime/actor-kind.ts';
import { ActorConflictError, ActorHost, MailboxFullError } from '../../src/actors/runtime/actor-host.ts';

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

type LedgerEvent = ActorEvent & { type: 'ADD'; n: number };
type LedgerEffect = { type: 'noted' | 'charged' | 'receipted'; n: number };

/** A machine whose every event emits three effects, to see one of them fail alone. */
const ledger = setup({
  types: { context: {} as { log: number[] }, events: {} as LedgerEvent, emitted: {} as LedgerEffect },
  actions: {
    add: assign(({ context, event }) => ({ log: [...context.log, event.n] })),
    note: emit(({ event }) => ({ type: 'noted' as const, n: event.n })),
    charge: emit(({ event }) => ({ type: 'charged' as const, n: event.n })),
    receipt: emit(({ event }) => ({ type: 'receipted' as const, n: event.n })),
  },
}).createMachine({ id: 'ledger', context: { log: [] }, on: { ADD: { actions: ['add', 'note', 'charge', 'receipt'] } } });

/**
 * A ledger kind backed by a Map: `fails(effect, attempt)` decides whether that
 * attempt of an effect throws; every attempt is recorded with its time.
 */
function ledgerKind(fails: (effect: LedgerEffect, attempt: number) => boolean) {
  const records = new Map<string, ActorRecord>();
  const ran: LedgerEffect[] = [];
  const attempts: { effect: LedgerEffect; at: number }[] = [];
  const kind: ActorKind = {
    name: 'ledger',
    machine: ledger,
    schema: 1,
    input: () => undefined,
    load: async (key) => structuredClone(records.get(key) ?? null),
    save: async (key, record, expected) => {
      if ((records.get(key)?.version ?? 0) !== expected) return false;
      records.set(key, structuredClone(record));
      return true;
    },
    execute: async (_key, effects) => {
      for (const effect of effects as LedgerEffect[]) {
        const attempt = attempts.filter((a) => a.effect.type === effect.type && a.effect.n === effect.n).length + 1;
        attempts.push({ effect, at: performance.now() });
        if (fails(effect, attempt)) throw new Error(`${effect.type} ${effect.n} refused (attempt ${attempt}) ${'x'.repeat(1000)}`);
        ran.push(effect);
      }
    },
  };
  const attemptsOf = (type: LedgerEffect['type'], n: number) => attempts.filter((a) => a.effect.type === type && a.effect.n === n);
  return { kind, records, ran, attemptsOf };
}

const deposit = (id: string, n: number): LedgerEvent => ({ type: 'ADD', id, at: Date.now(), n });
const logOf = (r: ActorRecord | undefined) => (r?.state.context as { log: number[] } | undefined)?.log;

/** What a pod that died between storing a transition and running its effects leaves behind. */
async function crashBeforeEffects(kind: ActorKind, key: string, event: ActorEvent): Promise<() => Promise<void>> {
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const dying = new ActorHost([{ ...kind, execute: () => gate }], { log, idleMs: 60_000 });
  void dying.send(kind.name, key, event);
  await new Promise((r) => setTimeout(r, 20));
  return async () => {
    release();
    await dying.stop();
  };
}

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

  it('an event arriving while an idle actor is being passivated waits for it, and its effects never run twice', async () => {
    const { kind, executed } = memoryKind();
    let slowSaveMs = 0;
    let clearing = false;
    // Saves slowed down once the first event is in: the passivation's save (clearing the pending effects) is in flight for 300 ms.
    const slow: ActorKind = {
      ...kind,
      save: async (key, record, expected, previous) => {
        if (slowSaveMs) {
          clearing = true;
          await new Promise((r) => setTimeout(r, slowSaveMs));
        }
        return kind.save(key, record, expected, previous);
      },
    };
    const host = new ActorHost([slow], { log, idleMs: 200 });
    await host.send('counter', 'k', add('a', 2));
    slowSaveMs = 300;
    for (let waited = 0; !clearing && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.ok(clearing, 'the idle sweep began passivating the actor');
    const d = await host.send('counter', 'k', add('b', 3));
    assert.equal((d.context as { total: number }).total, 5);
    assert.deepEqual(executed, [{ type: 'added', total: 2 }, { type: 'added', total: 5 }], "the first event's effect ran once");
    await host.stop();
  });

  it('runs effects a crash left pending when the actor is next activated, then clears them', async () => {
    const { kind, records, executed } = memoryKind();
    const cleanUp = await crashBeforeEffects(kind, 'k', add('a', 7));
    assert.deepEqual(records.get('k')!.pending, [{ type: 'added', total: 7 }], 'state and its pending effects were stored');
    const host = new ActorHost([kind], { log, idleMs: 60_000 });
    await host.send('counter', 'k', add('b', 1));
    assert.deepEqual(executed, [{ type: 'added', total: 7 }, { type: 'added', total: 8 }]);
    assert.equal(records.get('k')!.version, 3, 'the crashed transition, its pending cleared, the next transition');
    await host.stop();
    await cleanUp();
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

describe('actor host: effects that keep failing', () => {
  it('dead-letters an effect that always throws after exactly its attempts, runs the other effects, and applies the next 100 events in order', async () => {
    const { kind, records, ran, attemptsOf } = ledgerKind((e) => e.type === 'charged' && e.n === 0);
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 4, effectBackoffMs: 10 });
    const first = await host.send('ledger', 'k', deposit('e0', 0));
    assert.equal(first.deadLettered, 1);

    const tries = attemptsOf('charged', 0);
    assert.equal(tries.length, 4, 'four attempts, then given up');
    const gaps = tries.slice(1).map((t, i) => t.at - tries[i]!.at);
    gaps.forEach((gap, i) => assert.ok(gap >= 10 * 2 ** i - 1, `wait ${i + 1} was ${gap.toFixed(1)} ms, expected at least ${10 * 2 ** i} ms`));
    assert.deepEqual(ran, [{ type: 'noted', n: 0 }, { type: 'receipted', n: 0 }], 'the effects before and after the failing one ran, in order');

    const afterFailure = records.get('k')!;
    assert.deepEqual(afterFailure.pending, [], 'nothing left to re-run');
    assert.equal(afterFailure.version, 2, 'the transition, then the dead letter with pending cleared');
    assert.equal(afterFailure.deadLetters?.length, 1);
    const [letter] = afterFailure.deadLetters!;
    assert.equal(letter!.event, 'e0');
    assert.deepEqual(letter!.effect, { type: 'charged', n: 0 });
    assert.equal(letter!.attempts, 4);
    assert.match(letter!.error, /^charged 0 refused \(attempt 4\)/);
    assert.ok(letter!.error.length <= 500, `error clipped, was ${letter!.error.length} chars`);
    assert.equal(typeof letter!.at, 'number');
    assert.deepEqual(host.deadLetteredTotal, { ledger: 1 });

    const deliveries = [];
    for (let n = 1; n <= 100; n++) deliveries.push(await host.send('ledger', 'k', deposit(`e${n}`, n)));
    assert.ok(deliveries.every((d) => d.handled && !d.duplicate && d.deadLettered === 0));
    const stored = records.get('k')!;
    assert.deepEqual(logOf(stored), Array.from({ length: 101 }, (_, n) => n));
    assert.equal(stored.version, 102);
    assert.equal(stored.deadLetters?.length, 1, 'the dead letter is kept across later transitions');
    assert.equal(ran.filter((e) => e.type === 'charged').length, 100, 'every later event ran all its effects');
    await host.stop();
  });

  it('does not dead-letter an effect that fails twice then succeeds', async () => {
    const { kind, records, ran, attemptsOf } = ledgerKind((e, attempt) => e.type === 'charged' && attempt <= 2);
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 3, effectBackoffMs: 5 });
    const d = await host.send('ledger', 'k', deposit('e1', 1));
    assert.equal(d.deadLettered, 0);
    assert.equal(attemptsOf('charged', 1).length, 3);
    assert.deepEqual(ran.map((e) => e.type), ['noted', 'charged', 'receipted']);
    assert.equal(records.get('k')!.deadLetters, undefined);
    assert.equal(records.get('k')!.version, 1, 'no extra save');
    assert.deepEqual(host.deadLetteredTotal, { ledger: 0 });
    await host.stop();
  });

  it('keeps later events of the actor waiting while an effect is retried', async () => {
    const { kind, records, ran } = ledgerKind((e, attempt) => e.type === 'charged' && e.n === 1 && attempt <= 2);
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 3, effectBackoffMs: 20 });
    await Promise.all([1, 2, 3].map((n) => host.send('ledger', 'k', deposit(`e${n}`, n))));
    assert.deepEqual(ran.filter((e) => e.type === 'charged').map((e) => e.n), [1, 2, 3]);
    assert.deepEqual(logOf(records.get('k')), [1, 2, 3]);
    await host.stop();
  });

  it('dead-letters at activation a pending effect a crash left that always throws, runs the others, and moves on', async () => {
    const { kind, records, ran, attemptsOf } = ledgerKind((e) => e.type === 'charged' && e.n === 7);
    const cleanUp = await crashBeforeEffects(kind, 'k', deposit('crashed', 7));
    assert.equal(records.get('k')!.pending.length, 3, 'the transition was stored with its effects pending');

    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 2, effectBackoffMs: 5 });
    const d = await host.send('ledger', 'k', deposit('next', 8));
    assert.equal(d.deadLettered, 0, 'the new event itself lost nothing');
    assert.equal(attemptsOf('charged', 7).length, 2);
    assert.deepEqual(ran, [
      { type: 'noted', n: 7 }, { type: 'receipted', n: 7 },
      { type: 'noted', n: 8 }, { type: 'charged', n: 8 }, { type: 'receipted', n: 8 },
    ]);
    const stored = records.get('k')!;
    assert.deepEqual(logOf(stored), [7, 8]);
    assert.deepEqual(stored.deadLetters?.map((l) => [l.event, (l.effect as LedgerEffect).type, l.attempts]), [['crashed', 'charged', 2]]);
    assert.deepEqual(host.deadLetteredTotal, { ledger: 1 });
    await host.stop();
    await cleanUp();
  });

  it('fails the event and keeps its effects pending when the dead letter cannot be stored', async () => {
    let broken = true;
    const { kind, records, ran } = ledgerKind((e) => broken && e.type === 'charged');
    const save = kind.save;
    kind.save = async (key, record, expected) => {
      if (broken && record.deadLetters?.length) throw new Error('store is down');
      return save(key, record, expected);
    };
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 2, effectBackoffMs: 1 });
    await assert.rejects(host.send('ledger', 'k', deposit('e1', 1)), /store is down/);
    assert.equal(records.get('k')!.pending.length, 3, 'nothing lost: the effects stay stored');
    assert.deepEqual(host.deadLetteredTotal, { ledger: 0 }, 'not counted until stored');

    broken = false;
    await host.send('ledger', 'k', deposit('e2', 2));
    assert.deepEqual(ran.filter((e) => e.type === 'charged').map((e) => e.n), [1, 2], 're-run at activation once the store is back');
    assert.equal(records.get('k')!.deadLetters, undefined);
    await host.stop();
  });

  it('keeps only the most recent 20 dead letters', async () => {
    const { kind, records } = ledgerKind((e) => e.type === 'charged');
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 1, effectBackoffMs: 1 });
    for (let n = 0; n < 25; n++) await host.send('ledger', 'k', deposit(`e${n}`, n));
    assert.deepEqual(records.get('k')!.deadLetters?.map((l) => l.event), Array.from({ length: 20 }, (_, i) => `e${i + 5}`));
    assert.deepEqual(host.deadLetteredTotal, { ledger: 25 });
    await host.stop();
  });

  it('refuses to store a dead letter once this pod no longer owns the actor', async () => {
    let owned = true;
    const { kind, records } = ledgerKind((e) => {
      if (e.type === 'charged') owned = false; // the shard moves away while the effect fails
      return e.type === 'charged';
    });
    const host = new ActorHost([kind], { log, idleMs: 60_000, effectAttempts: 1, effectBackoffMs: 1, fence: () => (owned ? 1 : null) });
    await assert.rejects(host.send('ledger', 'k', deposit('e1', 1)), ActorConflictError);
    assert.equal(records.get('k')!.pending.length, 3, 'left for the new owner to run');
    assert.equal(records.get('k')!.deadLetters, undefined);
    await host.stop();
  });
});
