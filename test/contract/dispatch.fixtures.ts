/**
 * What the dispatcher contract runs on: a tiny actor kind ("tally": appends
 * each ADD's number to its log) over a store shared by every pod, which
 * records loads, save attempts and applications in the order they happened,
 * can fail or hold a chosen event's save; and a pod wired the way
 * `ActorSystem` wires one (host fenced by its ownership, shards drained
 * through the dispatcher before they are given up).
 */
import { pino } from 'pino';
import { assign, setup } from 'xstate';
import type { ActorDispatcher } from '../../src/actors/cluster/dispatch.ts';
import { shardOf, type ShardOwnership } from '../../src/actors/cluster/ownership.ts';
import { ActorHost } from '../../src/actors/runtime/actor-host.ts';
import type { ActorEvent, ActorKind, ActorRecord } from '../../src/actors/runtime/actor-kind.ts';

export const KIND = 'tally';
export type TallyEvent = ActorEvent & ({ type: 'ADD'; n: number } | { type: 'NOPE' });
export type TallyContext = { log: number[] };

/** Event ids are `key#n` unless given: what the store's records and the assertions speak in. */
export const add = (key: string, n: number, id = `${key}#${n}`): TallyEvent => ({ type: 'ADD', id, at: Date.now(), n });
/** An event the machine has no transition for. */
export const nope = (key: string): TallyEvent => ({ type: 'NOPE', id: `${key}#nope`, at: Date.now() });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tally = setup({
  types: { context: {} as TallyContext, events: {} as TallyEvent },
  actions: { add: assign(({ context, event }) => (event.type === 'ADD' ? { log: [...context.log, event.n] } : {})) },
}).createMachine({ id: KIND, context: { log: [] }, on: { ADD: { actions: 'add' } } });

interface Step {
  what: 'load' | 'attempt' | 'applied';
  key: string;
  /** The event a save is for (empty for a load). */
  id: string;
  pod: string;
}

/** Records shared by every pod (like the real store), with a journal of what each pod did to them. */
export class TallyStore {
  readonly records = new Map<string, ActorRecord>();
  readonly journal: Step[] = [];
  private readonly failing = new Map<string, number>();
  private readonly held = new Map<string, { entered: () => void; opened: Promise<void> }>();
  private readonly failedSignals = new Map<string, () => void>();

  /** The next `times` saves of event `id` throw (Infinity: all of them). */
  fail(id: string, times = Infinity): void {
    this.failing.set(id, times);
  }

  /** Resolves when a save of `id` has just thrown. */
  failed(id: string): Promise<void> {
    return new Promise((r) => this.failedSignals.set(id, r));
  }

  /** Holds the next save of `id` until `open()`; `entered` resolves once that save has begun (the event was taken). */
  hold(id: string): { entered: Promise<void>; open: () => void } {
    let entered!: () => void;
    let open!: () => void;
    const enteredP = new Promise<void>((r) => (entered = r));
    this.held.set(id, { entered, opened: new Promise<void>((r) => (open = r)) });
    return { entered: enteredP, open };
  }

  /** Ids applied to `key`'s actor, in the order they were stored. */
  appliedIds(key: string): string[] {
    return this.journal.filter((s) => s.what === 'applied' && s.key === key).map((s) => s.id);
  }

  attempts(id: string): number {
    return this.journal.filter((s) => s.what === 'attempt' && s.id === id).length;
  }

  /** Index in the journal of the `nth` (1-based) step of this sort for this key (and event), or -1. */
  indexOf(what: Step['what'], key: string, nth = 1, id?: string): number {
    let seen = 0;
    return this.journal.findIndex((s) => s.what === what && s.key === key && (id === undefined || s.id === id) && ++seen === nth);
  }

  /** The kind as one pod sees it: saves are conditional on the version and refused to a smaller fencing token. */
  kind(pod: string): ActorKind {
    return {
      name: KIND,
      machine: tally,
      schema: 1,
      input: () => undefined,
      load: async (key) => {
        this.journal.push({ what: 'load', key, id: '', pod });
        return structuredClone(this.records.get(key) ?? null);
      },
      save: async (key, record, expected) => {
        const id = record.applied.at(-1) ?? '';
        this.journal.push({ what: 'attempt', key, id, pod });
        const held = this.held.get(id);
        if (held) {
          this.held.delete(id);
          held.entered();
          await held.opened;
        }
        const failures = this.failing.get(id) ?? 0;
        if (failures > 0) {
          this.failing.set(id, failures - 1);
          this.failedSignals.get(id)?.();
          throw new Error(`store refused ${id}`);
        }
        const stored = this.records.get(key);
        if ((stored?.version ?? 0) !== expected || (stored?.fence ?? 0) > (record.fence ?? 0)) return false;
        this.records.set(key, structuredClone(record));
        this.journal.push({ what: 'applied', key, id, pod });
        return true;
      },
      execute: async () => undefined,
    };
  }
}

/** A pod as the contract drives it; `stop()` also closes whatever connections the driver opened. */
export interface DispatchPod {
  readonly pod: string;
  readonly host: ActorHost;
  readonly ownership: ShardOwnership;
  readonly dispatcher: ActorDispatcher;
  /** The shard an actor of the tally kind lives in. */
  shardOf(key: string): number;
  stop(): Promise<void>;
}

/** Wires host, ownership and dispatcher as `ActorSystem` does, and starts them (ownership first). */
export async function startPod(opts: {
  pod: string;
  store: TallyStore;
  ownership: ShardOwnership;
  dispatcher: (host: ActorHost) => ActorDispatcher;
  close?: () => Promise<void>;
}): Promise<DispatchPod> {
  const { pod, ownership } = opts;
  const shard = (key: string) => shardOf(KIND, key, ownership.shards);
  const host = new ActorHost([opts.store.kind(pod)], {
    log: pino({ level: 'silent' }),
    idleMs: 60_000,
    fence: (_kind, key) => ownership.fence(shard(key)),
  });
  const dispatcher = opts.dispatcher(host);
  ownership.onChange(({ shard: s, owned }) => {
    if (!owned) host.forgetWhere((_kind, key) => shard(key) === s);
  });
  const drain = async (s: number) => {
    await dispatcher.release(s);
    await host.passivateWhere((_kind, key) => shard(key) === s);
  };
  await ownership.start(drain);
  await dispatcher.start();
  return {
    pod,
    host,
    ownership,
    dispatcher,
    shardOf: shard,
    async stop() {
      await ownership.stop(drain);
      await dispatcher.stop();
      await host.stop();
      await opts.close?.();
    },
  };
}

/** `count` actor keys that live in `shard`, found by trying names (the hash is fixed). */
export function keysInShard(pod: DispatchPod, shard: number, count: number, label: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (pod.shardOf(`${label}-${i}`) === shard) keys.push(`${label}-${i}`);
  return keys;
}
