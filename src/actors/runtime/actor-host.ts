import { initialTransition, type AnyMachineSnapshot, type EventObject, type StateValue } from 'xstate';
import { pureTransition, type Transition } from './pure-transition.ts';
import type { Logger } from '../../infra/logger.ts';
import type { ActorEvent, ActorKind, ActorRecord, DeadLetter, Deadline } from './actor-kind.ts';
import type { HostObserver } from './inspection.ts';
import { AppError, type ErrorCode } from '../../infra/errors.ts';

/** The outcome of delivering one event. */
export interface Delivery {
  /** False when the current state has no transition for the event (nothing was stored). */
  handled: boolean;
  /** True when an event with the same id was already applied (nothing was done). */
  duplicate: boolean;
  /** The actor's context after the event. */
  context: unknown;
  value: unknown;
  effects: readonly unknown[];
  /** How many of this event's effects kept failing and were dead-lettered (0: all ran). Unset in a reply from another pod. */
  deadLettered?: number;
}

/** Too many events wait for one actor. Internal signal; a client it reaches gets OVERLOADED (503, retry; its publicCode). */
export class MailboxFullError extends Error {
  override readonly name = 'MailboxFullError';
  readonly publicCode: ErrorCode = 'OVERLOADED';
  readonly publicMessage = 'Too many events are waiting for this chat; retry shortly';
}
/** Another writer stored a newer version: this pod's copy is stale (fenced). Internal signal; a client gets ACTOR_CONFLICT (503, retry). */
export class ActorConflictError extends Error {
  override readonly name = 'ActorConflictError';
  readonly publicCode: ErrorCode = 'ACTOR_CONFLICT';
}

export interface ActorHostOptions {
  log: Logger;
  /** Resident actors idle this long are dropped from memory (their record is already stored). */
  idleMs: number;
  /** Events waiting per actor before further ones are refused. */
  maxMailbox?: number;
  /** How many applied event ids each actor remembers for deduplication. */
  appliedWindow?: number;
  now?: () => number;
  /**
   * The fencing token this pod holds for an actor's shard, or null when it does
   * not own it (any more). Unset: one pod owns everything.
   */
  fence?: (kind: string, key: string) => number | null;
  /** Told of activations and transitions (live inspection); never allowed to fail an event. */
  observer?: HostObserver;
  /** Attempts at one effect before it is dead-lettered (default 5; config EFFECT_ATTEMPTS). */
  effectAttempts?: number;
  /** Wait before an effect's second attempt, doubled before each further one (default 100 ms; config EFFECT_BACKOFF_MS). */
  effectBackoffMs?: number;
}

interface Job {
  event: ActorEvent;
  resolve: (d: Delivery) => void;
  reject: (e: unknown) => void;
}

interface Resident {
  kind: ActorKind;
  key: string;
  snapshot: AnyMachineSnapshot | undefined;
  record: ActorRecord | undefined;
  queue: Job[];
  busy: boolean;
  lastUsed: number;
  timers: Map<string, NodeJS.Timeout>;
}

const HISTORY = 20;
/** Dead letters kept on an actor's record (the most recent ones). */
const DEAD_LETTERS = 20;
/** Characters of a dead-lettered effect's error message that are kept. */
const ERROR_CHARS = 500;
/** The longest delay setTimeout honours (2^31 - 1 ms, ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Passivation saves in flight at once: a bound on one grouped write, whatever the number of idle actors. */
const PASSIVATE_BATCH = 256;

/**
 * Hosts actors in this process: made on first use, one event at a time per
 * actor (a mailbox), every new state stored before its effects run, idle ones
 * passivated, delayed transitions kept as stored deadlines. Transitions are
 * XState's pure `transition()`: no live interpreter per actor, so a resident
 * actor costs one snapshot object. An effect that keeps failing is retried
 * with backoff, then dead-lettered on the record, so it never wedges its actor.
 */
export class ActorHost {
  private readonly residents = new Map<string, Resident>();
  private readonly kinds = new Map<string, ActorKind>();
  private readonly transitions = new Map<ActorKind, Transition>();
  private readonly maxMailbox: number;
  private readonly appliedWindow: number;
  private readonly now: () => number;
  private readonly effectAttempts: number;
  private readonly effectBackoffMs: number;
  private readonly deadLettered = new Map<string, number>();
  /** Records this host stored itself: the store holds exactly these, so the next save may write only what changed. */
  private readonly written = new WeakSet<ActorRecord>();
  private readonly sweeper: NodeJS.Timeout;
  private stopped = false;

  constructor(
    kinds: readonly ActorKind[],
    private readonly opts: ActorHostOptions,
  ) {
    for (const k of kinds) {
      this.kinds.set(k.name, k);
      this.transitions.set(k, pureTransition(k.machine));
      this.deadLettered.set(k.name, 0);
    }
    this.maxMailbox = opts.maxMailbox ?? 1000;
    this.appliedWindow = opts.appliedWindow ?? 64;
    this.now = opts.now ?? Date.now;
    this.effectAttempts = Math.max(1, opts.effectAttempts ?? 5);
    this.effectBackoffMs = opts.effectBackoffMs ?? 100;
    this.sweeper = setInterval(() => void this.passivateIdle(), Math.max(1000, Math.min(opts.idleMs, 30_000))).unref();
  }

  /** Delivers `event` to actor `kind/key`, in order after every event sent to it before. */
  send(kindName: string, key: string, event: ActorEvent): Promise<Delivery> {
    if (this.stopped) return Promise.reject(new AppError('SHUTTING_DOWN', undefined, { cause: new Error('actor host is stopped') }));
    const kind = this.kinds.get(kindName);
    if (!kind) return Promise.reject(new Error(`unknown actor kind ${kindName}`));
    const id = `${kindName}/${key}`;
    let r = this.residents.get(id);
    if (!r) {
      r = { kind, key, snapshot: undefined, record: undefined, queue: [], busy: false, lastUsed: this.now(), timers: new Map() };
      this.residents.set(id, r);
    }
    if (r.queue.length >= this.maxMailbox) return Promise.reject(new MailboxFullError(`mailbox of ${id} is full`));
    const resident = r;
    return new Promise((resolve, reject) => {
      resident.queue.push({ event, resolve, reject });
      if (!resident.busy) void this.drain(id, resident);
    });
  }

  /** The stored record of an actor, resident or not (for inspection). */
  async inspect(kindName: string, key: string): Promise<ActorRecord | null> {
    const r = this.residents.get(`${kindName}/${key}`);
    if (r?.record) return r.record;
    const kind = this.kinds.get(kindName);
    return kind ? kind.load(key) : null;
  }

  get residentCount(): number {
    return this.residents.size;
  }

  /** Effects this host dead-lettered since it started, by actor kind (every kind present, from 0). */
  get deadLetteredTotal(): Record<string, number> {
    return Object.fromEntries(this.deadLettered);
  }

  /** Wakes stored actors whose deadlines are due (after passivation or a restart). */
  async fireDueDeadlines(limit = 100): Promise<number> {
    let fired = 0;
    for (const kind of this.kinds.values()) {
      if (!kind.dueKeys) continue;
      for (const key of await kind.dueKeys(this.now(), limit)) {
        const record = this.residents.get(`${kind.name}/${key}`)?.record ?? (await kind.load(key));
        for (const d of record?.deadlines ?? []) {
          if (d.due > this.now()) continue;
          fired++;
          this.send(kind.name, key, deadlineEvent(d)).catch((err: unknown) => this.opts.log.warn({ err, key }, 'deadline delivery failed'));
        }
      }
    }
    return fired;
  }

  /**
   * Drops the resident actors `which` selects once their mailboxes are empty
   * (bounded wait), clearing effects that already ran: used when this pod hands
   * a shard to another.
   */
  async passivateWhere(which: (kind: string, key: string) => boolean, timeoutMs = 5000): Promise<void> {
    const chosen = [...this.residents].filter(([, r]) => which(r.kind.name, r.key));
    const deadline = Date.now() + timeoutMs;
    while (chosen.some(([, r]) => r.busy || r.queue.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.passivate(chosen, true);
  }

  /** Forgets resident actors `which` selects at once, without writing (their shard is already lost). */
  forgetWhere(which: (kind: string, key: string) => boolean): void {
    for (const [id, r] of [...this.residents]) if (which(r.kind.name, r.key)) this.evict(id, r);
  }

  /** Stops taking events, lets queued ones finish (bounded), and drops every resident actor. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    const deadline = Date.now() + timeoutMs;
    while ([...this.residents.values()].some((r) => r.busy || r.queue.length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.passivate([...this.residents], true);
    this.residents.clear();
  }

  private async drain(id: string, r: Resident): Promise<void> {
    r.busy = true;
    try {
      for (let job = r.queue.shift(); job; job = r.queue.shift()) {
        try {
          job.resolve(await this.apply(r, job.event));
        } catch (err) {
          // The stored record is the truth: forget this copy so the next event reloads it. The events
          // queued behind the failed one fail too: applying them now would let them overtake it, and
          // their senders retry in order (the stream router re-applies a shard's pending entries in order).
          const behind = r.queue.splice(0);
          this.evict(id, r);
          job.reject(err);
          for (const later of behind) later.reject(new ActorConflictError(`${r.kind.name}/${r.key}: an earlier event failed (${(err as Error).message})`));
        }
      }
    } finally {
      r.busy = false;
      r.lastUsed = this.now();
    }
  }

  private async apply(r: Resident, event: ActorEvent): Promise<Delivery> {
    const { kind } = r;
    if (!r.snapshot || !r.record) await this.activate(r, event);
    const snapshot = r.snapshot!;
    const record = r.record!;
    if (record.applied.includes(event.id)) {
      return { handled: true, duplicate: true, context: snapshot.context, value: snapshot.value, effects: [], deadLettered: 0 };
    }
    const [next, actions] = this.transitions.get(kind)!(snapshot, event);
    // XState returns the same snapshot for an event no transition takes (an emit-only one has actions).
    if (next === snapshot && actions.length === 0) return { handled: false, duplicate: false, context: snapshot.context, value: snapshot.value, effects: [], deadLettered: 0 };

    const effects: unknown[] = [];
    let deadlines = record.deadlines;
    for (const a of actions as { type: string; params?: Record<string, unknown> }[]) {
      if (a.type === 'xstate.emit') effects.push(a.params?.event);
      else if (a.type === 'xstate.raise' && typeof a.params?.delay === 'number') {
        const d: Deadline = { id: String(a.params.id), event: a.params.event as EventObject, due: event.at + a.params.delay };
        deadlines = [...deadlines.filter((x) => x.id !== d.id), d];
      } else if (a.type === 'xstate.cancel') deadlines = deadlines.filter((x) => x.id !== a.params?.sendId);
    }
    const fence = this.opts.fence ? this.opts.fence(kind.name, r.key) : 0;
    if (fence === null) throw new ActorConflictError(`${kind.name}/${r.key}: this pod no longer owns its shard`);
    const stored: ActorRecord = {
      fence,
      schema: kind.schema,
      version: record.version + 1,
      state: { value: next.value, context: next.context },
      applied: appendBounded(record.applied, event.id, this.appliedWindow),
      pending: effects,
      deadlines: next.status === 'done' ? [] : deadlines,
      history: appendBounded(record.history, { at: event.at, event: event.type, from: snapshot.value, to: next.value }, HISTORY),
      ...(record.deadLetters ? { deadLetters: record.deadLetters } : {}),
    };
    if (!(await this.save(r, stored, record))) {
      throw new ActorConflictError(`${kind.name}/${r.key}: stored version moved past ${record.version}`);
    }
    r.snapshot = next;
    r.record = stored;
    this.observe((o) => o.transitioned(kind.name, r.key, event, next));
    this.armDeadlines(r);
    const dead = await this.runEffects(r, event.id, effects, next.context, next.value);
    // All ran: `pending` is replaced by the next event's effects (or cleared at passivation), no save needed now.
    if (dead.length) await this.settle(r, stored, dead);
    return { handled: true, duplicate: false, context: next.context, value: next.value, effects, deadLettered: dead.length };
  }

  /** Loads the stored record, or makes a new actor; re-runs effects a crash left pending. */
  private async activate(r: Resident, first: ActorEvent): Promise<void> {
    const { kind } = r;
    const stored = await kind.load(r.key);
    if (stored) {
      r.snapshot = kind.machine.resolveState(stored.state as { value: never; context: never });
      r.record = stored;
      if (stored.pending.length) {
        // The last applied event emitted them.
        const dead = await this.runEffects(r, stored.applied.at(-1) ?? '', stored.pending, r.snapshot.context, r.snapshot.value);
        await this.settle(r, stored, dead);
      }
    } else {
      r.snapshot = initialTransition(kind.machine, kind.input(r.key, first))[0];
      r.record = { schema: kind.schema, version: 0, state: { value: r.snapshot.value, context: r.snapshot.context }, applied: [], pending: [], deadlines: [], history: [] };
    }
    const snapshot = r.snapshot;
    this.observe((o) => o.activated(kind.name, r.key, kind.machine, snapshot));
    this.armDeadlines(r);
  }

  /**
   * Runs effects one at a time, in order, each retried with exponential backoff
   * while the actor's mailbox waits (per-actor order holds). Returns those that
   * still failed at their last attempt; the others of the same event still run.
   */
  private async runEffects(r: Resident, eventId: string, effects: readonly unknown[], context: unknown, value: StateValue): Promise<DeadLetter[]> {
    const dead: DeadLetter[] = [];
    for (const effect of effects) {
      for (let attempt = 1, wait = this.effectBackoffMs; ; attempt++, wait *= 2) {
        try {
          await r.kind.execute(r.key, [effect], context, value);
          break;
        } catch (err) {
          if (attempt >= this.effectAttempts) {
            dead.push({ at: this.now(), event: eventId, effect, error: errorText(err), attempts: attempt });
            break;
          }
          this.opts.log.warn({ err, actor: `${r.kind.name}/${r.key}`, effect: effectType(effect), attempt }, 'effect failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    }
    return dead;
  }

  /**
   * Clears `record`'s pending effects (they ran, or were given up on) and adds
   * the dead letters, in one conditional save. If it fails the event fails and
   * the effects stay pending, to run again on the next activation; so dead
   * letters are counted and logged only once stored.
   */
  private async settle(r: Resident, record: ActorRecord, dead: readonly DeadLetter[]): Promise<void> {
    const { kind } = r;
    const fence = this.opts.fence ? this.opts.fence(kind.name, r.key) : record.fence;
    if (fence === null) throw new ActorConflictError(`${kind.name}/${r.key}: this pod no longer owns its shard`);
    const settled: ActorRecord = { ...record, ...(fence === undefined ? {} : { fence }), pending: [], version: record.version + 1 };
    if (dead.length) settled.deadLetters = [...(record.deadLetters ?? []), ...dead].slice(-DEAD_LETTERS);
    if (!(await this.save(r, settled, record))) throw new ActorConflictError(`${kind.name}/${r.key}: stored version moved past ${record.version}`);
    if (r.record === record) r.record = settled; // unless evicted meanwhile: the next event reloads
    for (const d of dead) {
      this.deadLettered.set(kind.name, (this.deadLettered.get(kind.name) ?? 0) + 1);
      this.opts.log.error({ actor: `${kind.name}/${r.key}`, effect: effectType(d.effect), event: d.event, attempts: d.attempts, err: d.error }, 'effect dead-lettered after its last attempt');
    }
  }

  /** Stores `next` over `previous` (conditional on its version), telling the kind when `previous` is what the store holds. */
  private async save(r: Resident, next: ActorRecord, previous: ActorRecord): Promise<boolean> {
    const saved = await r.kind.save(r.key, next, previous.version, this.written.has(previous) ? previous : undefined);
    if (saved) this.written.add(next);
    return saved;
  }

  private observe(tell: (o: HostObserver) => void): void {
    if (!this.opts.observer) return;
    try {
      tell(this.opts.observer);
    } catch (err) {
      this.opts.log.warn({ err }, 'actor observer failed');
    }
  }

  private armDeadlines(r: Resident): void {
    const wanted = new Set(r.record?.deadlines.map((d) => d.id));
    for (const [id, t] of r.timers) {
      if (!wanted.has(id)) {
        clearTimeout(t);
        r.timers.delete(id);
      }
    }
    for (const d of r.record?.deadlines ?? []) {
      if (r.timers.has(d.id)) continue;
      // Node fires a longer timer at once; one this far off is left to the due-deadline poll (fireDueDeadlines).
      if (d.due - this.now() > MAX_TIMER_MS) continue;
      const timer = setTimeout(() => {
        r.timers.delete(d.id);
        this.send(r.kind.name, r.key, deadlineEvent(d)).catch((err: unknown) => this.opts.log.warn({ err, key: r.key }, 'deadline delivery failed'));
      }, Math.max(0, d.due - this.now()));
      timer.unref();
      r.timers.set(d.id, timer);
    }
  }

  private async passivateIdle(): Promise<void> {
    const cutoff = this.now() - this.opts.idleMs;
    await this.passivate([...this.residents].filter(([, r]) => !r.busy && !r.queue.length && r.lastUsed <= cutoff));
  }

  /**
   * Passivates these actors side by side (PASSIVATE_BATCH at a time): their saves leave in the store's
   * grouped writes, not one round trip after another (a shard's hand-over waited on them). `force`
   * (a hand-over, a stop): one still busy is evicted anyway, its timers with it.
   */
  private async passivate(chosen: readonly [string, Resident][], force = false): Promise<void> {
    for (let i = 0; i < chosen.length; i += PASSIVATE_BATCH) {
      await Promise.all(chosen.slice(i, i + PASSIVATE_BATCH).map(([id, r]) => (r.busy ? (force ? this.evict(id, r) : undefined) : this.retire(id, r))));
    }
  }

  /**
   * Passivates one idle actor through its own mailbox: busy while the effects its last event ran are
   * cleared from its record, so an event sent meanwhile queues behind that save and applies to the
   * cleared record. (Evicted first, it was reactivated from the record still listing them: they ran
   * again, then its save lost to the clearing one.) Evicted only if nothing queued meanwhile.
   */
  private async retire(id: string, r: Resident): Promise<void> {
    r.busy = true;
    try {
      const record = r.record;
      if (record?.pending.length) {
        const cleared = { ...record, pending: [], version: record.version + 1 };
        const saved = await this.save(r, cleared, record).catch((err: unknown) => {
          this.opts.log.warn({ err, key: r.key }, 'clearing pending effects failed');
          return false;
        });
        if (saved) r.record = cleared;
        else [r.snapshot, r.record] = [undefined, undefined]; // the store is the truth: the next event reloads it
      }
    } finally {
      r.busy = false;
    }
    if (r.queue.length === 0) this.evict(id, r);
    else void this.drain(id, r);
  }

  private evict(id: string, r: Resident): void {
    for (const t of r.timers.values()) clearTimeout(t);
    r.timers.clear();
    if (this.residents.get(id) === r && r.queue.length === 0) this.residents.delete(id);
    else {
      r.snapshot = undefined;
      r.record = undefined;
    }
  }
}

function effectType(effect: unknown): string {
  const type = (effect as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : typeof effect;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, ERROR_CHARS);
}

/** The event a deadline delivers: its id is stable, so a deadline fires once even if woken twice. */
function deadlineEvent(d: Deadline): ActorEvent {
  return { ...d.event, id: `deadline:${d.id}:${d.due}`, at: d.due };
}

/**
 * `xs` with `x` appended, keeping the last `max`: one new array of exactly that
 * length (every event appends to two such windows, kept as long as the actor;
 * a slice and a push would reallocate it half as large again).
 */
function appendBounded<T>(xs: readonly T[], x: T, max: number): T[] {
  const start = Math.max(0, xs.length + 1 - max);
  const kept = xs.length - start;
  const out = new Array<T>(kept + 1);
  for (let i = 0; i < kept; i++) out[i] = xs[start + i]!;
  out[kept] = x;
  return out;
}
