/** Owns `actor_snapshots` (the discount actors' records) and `no_discount_log` (why customers turned an offer down). */
import { isDuplicateKey, type Collection, type DocumentStore, type IndexSpec } from '../../infra/store/store.ts';
import type { ActorRecord } from '../runtime/actor-kind.ts';
import { notFencedOut } from '../chat/chat-store.ts';

const SNAPSHOTS = 'actor_snapshots';
const NO_DISCOUNT_LOG = 'no_discount_log';

export const DISCOUNT_INDEXES: readonly IndexSpec[] = [
  { collection: SNAPSHOTS, name: 'kind_deadline', keys: { kind: 1, deadline_at: 1 } },
  { collection: NO_DISCOUNT_LOG, name: 'sender_created', keys: { sender: 1, created_at: -1 } },
];

/**
 * A discount actor's record is one snapshot (`_id: discount:<customer>`),
 * with its earliest deadline beside it so a poll can wake actors whose idle
 * timeout fell due while they were passivated or the pod was down.
 */
export class DiscountStore {
  private readonly snapshots: Collection;
  private readonly noDiscountLog: Collection;

  constructor(store: DocumentStore) {
    this.snapshots = store.collection(SNAPSHOTS);
    this.noDiscountLog = store.collection(NO_DISCOUNT_LOG);
  }

  /** The record of `customer`'s discount actor, or null. */
  async loadRecord(customer: string): Promise<ActorRecord | null> {
    const doc = await this.snapshots.findOne({ _id: snapshotId(customer) });
    return (doc?.record as ActorRecord | undefined) ?? null;
  }

  /** A new snapshot when `expected` is 0, otherwise only over version `expected` written by a pod not fenced out. False on conflict. */
  async saveRecord(customer: string, record: ActorRecord, expected: number): Promise<boolean> {
    const due = record.deadlines.length ? Math.min(...record.deadlines.map((d) => d.due)) : null;
    const fields = { kind: 'discount', key: customer, record, version: record.version, deadline_at: due === null ? null : new Date(due), updated_at: new Date() };
    if (expected === 0) {
      try {
        await this.snapshots.insertOne({ _id: snapshotId(customer), ...fields });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    return (await this.snapshots.updateOne({ _id: snapshotId(customer), version: expected, ...notFencedOut(record, 'record.fence') }, { $set: fields }, { grouped: true })).matched === 1;
  }

  /** Customers whose discount actor has a deadline due by `now` (at most `limit`). */
  async dueKeys(now: number, limit: number): Promise<string[]> {
    const due = await this.snapshots.find({ kind: 'discount', deadline_at: { $lte: new Date(now) } }, { limit, projection: { key: 1 } });
    return due.map((d) => String(d.key));
  }

  /**
   * Records why `sender` declined: one row per decline (`id`), so a re-run effect writes nothing twice and a
   * reason pressed after the conversation ended replaces the `none` logged for that decline.
   */
  async logReason(id: string, sender: string, text: string, at: number): Promise<void> {
    await this.noDiscountLog.updateOne({ _id: id }, { $set: { sender, text, created_at: new Date(at) } }, { upsert: true });
  }
}

const snapshotId = (customer: string) => `discount:${customer}`;
