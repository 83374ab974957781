/** Owns `inbox`: inbound events made durable before their webhook is acknowledged. */
import { AppError } from '../../infra/errors.ts';
import type { Logger } from '../../infra/logger.ts';
import { isDuplicateKey, type DocumentStore, type IndexSpec } from '../../infra/store/store.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';

const INBOX = 'inbox';

export const INBOX_INDEXES: readonly IndexSpec[] = [{ collection: INBOX, name: 'state_received', keys: { state: 1, received_at: 1 } }];

/** One inbound event made durable before the webhook is acknowledged. */
export interface InboxItem {
  /** Stable id from WhatsApp (`msg:<wamid>`, `status:<wamid>:<status>`): a redelivery hits the unique `_id`. */
  id: string;
  kind: string;
  key: string;
  event: ActorEvent;
}

/**
 * Hands an item to its actor: `queued` settles once the item has its place in
 * the actor's order (a mailbox, or its shard's stream), `done` once applied.
 */
export type Deliver = (item: InboxItem) => { queued: Promise<void>; done: Promise<unknown> };

/** Attempts before an item is set aside as `failed` (and logged) instead of retried forever. */
const MAX_ATTEMPTS = 10;

/** Applied marks are written together: at most this many per update, at most this late. */
const MARK_BATCH = 256;
const MARK_DELAY_MS = 5;

interface MarkBatch {
  ids: string[];
  written: Promise<void>;
  write: () => void;
}

/**
 * The durable inbox (DESIGN.md §5): webhooks are acknowledged only once their
 * events are stored here; delivery to actors happens afterwards, and a
 * recovery pass re-delivers whatever a crash or an error left pending.
 */
export class Inbox {
  private readonly items;
  private batch: MarkBatch | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  /** Items handed to actors by this pod and not yet applied (or failed): its share of the backlog. */
  private handedOut = 0;

  constructor(
    store: DocumentStore,
    private readonly deliver: Deliver,
    private readonly log: Logger,
  ) {
    this.items = store.collection(INBOX);
  }

  /**
   * Stores the items; returns those to hand to actors: the new ones, and
   * redelivered ones still pending (their first copy may sit on a pod that
   * died or stalled before queueing it — handing it again keeps it ahead of
   * anything acknowledged later; the actor applies an id once). A redelivery
   * of an applied item is dropped here.
   */
  async accept(items: readonly InboxItem[]): Promise<{ toDeliver: InboxItem[]; duplicates: number }> {
    let duplicates = 0;
    // Issued together: the store writes one webhook's items (and other webhooks' of this turn) as one insert.
    const taken = await Promise.all(
      items.map(async (item) => {
        try {
          await this.items.insertOne({ _id: item.id, kind: item.kind, key: item.key, event: item.event, state: 'pending', attempts: 0, received_at: new Date() });
          return true;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          duplicates++;
          const existing = await this.items.findOne({ _id: item.id }, { projection: { state: 1 } });
          return existing?.state === 'pending';
        }
      }),
    );
    return { toDeliver: items.filter((_, i) => taken[i]), duplicates };
  }

  /** Events this pod acknowledged and handed on that are not applied yet. */
  get unapplied(): number {
    return this.handedOut;
  }

  /**
   * Queues the items with their actors in order and resolves once they are
   * queued (so a webhook acknowledged after this is ordered after them); each
   * is marked applied in the background once its actor has applied it.
   * Rejects (STORE_UNAVAILABLE) when an item could not be queued: its webhook
   * must not be acknowledged, or a later message of the same chat, queued
   * meanwhile, would be applied before it (recovery would queue it after).
   * The item stays pending; the sender's retry, or recovery, queues it again.
   */
  async enqueue(items: readonly InboxItem[]): Promise<{ applied: Promise<void> }> {
    const { applied, failed } = await this.handOut(items);
    if (failed) throw new AppError('STORE_UNAVAILABLE', 'an event could not be queued for its actor; retry', { cause: failed.reason });
    return { applied };
  }

  /** Hands the items on; resolves once each is queued or failed to be (`failed`: the first such failure). */
  private async handOut(items: readonly InboxItem[]): Promise<{ applied: Promise<void>; failed?: PromiseRejectedResult }> {
    const handed = items.map((item) => {
      const d = this.deliver(item);
      // Awaited below only after `queued`: when queueing fails, its answer fails too and nobody would hear it.
      d.done.catch(() => undefined);
      return { item, ...d };
    });
    this.handedOut += handed.length;
    const settle = Promise.all(
      handed.map(async ({ item, queued, done }) => {
        let applied = false;
        try {
          await queued;
          await done;
          applied = true;
        } catch (err) {
          this.log.warn({ err, id: item.id }, 'inbox delivery failed; recovery will retry');
        }
        this.handedOut--;
        if (applied) await this.markApplied(item.id);
        else await this.items.updateOne({ _id: item.id }, { $inc: { attempts: 1 } }).catch(() => undefined);
      }),
    ).then(() => undefined);
    const queued = await Promise.allSettled(handed.map((h) => h.queued));
    const failed = queued.find((q) => q.status === 'rejected');
    return failed ? { applied: settle, failed } : { applied: settle };
  }

  /**
   * Marks an item applied, in one update with the others applied within a few
   * milliseconds (one write per batch instead of one per event). A mark lost
   * to a crash leaves the item pending: recovery hands it again and its actor,
   * which records applied ids, answers it as a duplicate.
   */
  private markApplied(id: string): Promise<void> {
    let batch = this.batch;
    if (!batch) {
      let write!: () => void;
      const started = new Promise<void>((r) => (write = r));
      const ids: string[] = [];
      const written = started.then(() => this.writeMarks(ids));
      batch = this.batch = { ids, written, write };
      this.batchTimer = setTimeout(() => this.flushMarks(), MARK_DELAY_MS);
    }
    batch.ids.push(id);
    const { written } = batch;
    if (batch.ids.length >= MARK_BATCH) this.flushMarks();
    return written;
  }

  private flushMarks(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const batch = this.batch;
    this.batch = undefined;
    batch?.write();
  }

  private async writeMarks(ids: string[]): Promise<void> {
    try {
      // The event itself goes: its message is stored by then, and a redelivery is recognised by the id alone.
      await this.items.updateMany({ _id: { $in: ids } }, { $set: { state: 'applied', applied_at: new Date() }, $unset: { event: '' } });
    } catch (err) {
      this.log.warn({ err, items: ids.length }, 'marking inbox items applied failed; recovery will hand them again (applied once)');
    }
  }

  /** Writes the marks still waiting (at shutdown, after the actors have stopped). */
  async flush(): Promise<void> {
    const pending = this.batch?.written;
    this.flushMarks();
    await pending;
  }

  /**
   * Deletes applied items received more than `retentionMs` ago: the inbox
   * keeps what a redelivery must be recognised by, not every event ever
   * received. Filtered on `received_at`, the redelivery clock, which the
   * `state_received` index serves (on `applied_at` MongoDB would read every
   * applied item). Items set aside as `failed` stay for an operator.
   */
  async prune(retentionMs: number): Promise<number> {
    return this.items.deleteMany({ state: 'applied', received_at: { $lt: new Date(Date.now() - retentionMs) } });
  }

  /** Delivers items and waits until each is applied (or has failed and stays pending). */
  async process(items: readonly InboxItem[]): Promise<void> {
    await (await this.handOut(items)).applied;
  }

  /**
   * Re-delivers items still pending after `olderThanMs` (the pod that took them
   * crashed, or delivery failed), oldest first, at most `limit` per call.
   */
  async recover(olderThanMs: number, limit = 100): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    const stale = await this.items.find({ state: 'pending', received_at: { $lt: cutoff } }, { sort: { received_at: 1 }, limit });
    const retry: InboxItem[] = [];
    for (const doc of stale) {
      if (Number(doc.attempts ?? 0) >= MAX_ATTEMPTS) {
        await this.items.updateOne({ _id: doc._id }, { $set: { state: 'failed' } });
        this.log.error({ id: doc._id }, `inbox item failed ${MAX_ATTEMPTS} times; set aside`);
        continue;
      }
      retry.push({ id: String(doc._id), kind: String(doc.kind), key: String(doc.key), event: doc.event as ActorEvent });
    }
    await this.process(retry);
    return retry.length;
  }
}
