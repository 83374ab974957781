/** Owns `outbox` (one record per logical WhatsApp send) and `outbox_early_status` (delivery statuses that overtook their send's answer). */
import { statusesNotBelow } from '../../domain/delivery-status.ts';
import { isDuplicateKey, type Collection, type Doc, type DocumentStore, type Filter, type IndexSpec } from '../../infra/store/store.ts';
import type { DeliveryFields } from '../chat/chat-store.ts';

const OUTBOX = 'outbox';
const EARLY_STATUS = 'outbox_early_status';

/** The sweep's scans, delivery statuses by WhatsApp id. */
export const OUTBOX_INDEXES: readonly IndexSpec[] = [
  { collection: OUTBOX, name: 'state_created', keys: { state: 1, created_at: 1 } },
  { collection: OUTBOX, name: 'state_claimed', keys: { state: 1, claimed_at: 1 } },
  { collection: OUTBOX, name: 'wa_message', keys: { wa_message_id: 1 }, sparse: true },
];

/**
 * The outbox records, each keyed by its send's idempotency key. Every state
 * change is one conditional single-document update (`pending → sending` is
 * the claim), so a send happens at most once.
 */
export class OutboxStore {
  private readonly sends: Collection;
  private readonly early: Collection;

  constructor(store: DocumentStore) {
    this.sends = store.collection(OUTBOX);
    this.early = store.collection(EARLY_STATUS);
  }

  /** Records a send; false when one with its key is recorded already. */
  async record(doc: Doc): Promise<boolean> {
    try {
      await this.sends.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Claims `pending` send `key` for `pod` (`pending → sending`); null when it is sent, or claimed elsewhere. */
  claim(key: string, pod: string, now: Date): Promise<Doc | null> {
    return this.sends.findOneAndUpdate({ _id: key, state: 'pending' }, { $set: { state: 'sending', pod, claimed_at: now, updated_at: now } }, { returnDocument: 'after' });
  }

  /** A claimed send whose channel has no API key (any more): `sending → dry_run`. */
  async markDryRun(key: string, now: Date): Promise<void> {
    await this.sends.updateOne({ _id: key, state: 'sending' }, { $set: { state: 'dry_run', updated_at: now } });
  }

  /** Pinbot's answer on send `key`; over `uncertain` too: a definite answer after a sweep gave up on it is still the truth. */
  async finish(key: Doc['_id'], fields: Doc): Promise<void> {
    await this.sends.updateOne({ _id: key, state: { $in: ['sending', 'uncertain'] } }, { $set: fields });
  }

  /** Up to 500 `sending` records also matching `filter`, oldest claim first (`_id` only). */
  sending(filter: Filter): Promise<Doc[]> {
    return this.sends.find({ state: 'sending', ...filter }, { sort: { claimed_at: 1 }, limit: 500, projection: { _id: 1 } });
  }

  /** `sending → uncertain` with `error`; null when the send left `sending` meanwhile. */
  markUncertain(key: Doc['_id'], error: unknown, now: Date): Promise<Doc | null> {
    return this.sends.findOneAndUpdate({ _id: key, state: 'sending' }, { $set: { state: 'uncertain', error, updated_at: now } }, { returnDocument: 'after' });
  }

  /** Up to `limit` `pending` records also matching `filter`, oldest first (`_id` and `to` only). */
  pending(filter: Filter, limit: number): Promise<Doc[]> {
    return this.sends.find({ state: 'pending', ...filter }, { sort: { created_at: 1 }, limit, projection: { _id: 1, to: 1 } });
  }

  /** Records in `state` (created since `since`, when given): one count on the `state_created` index. */
  countInState(state: string, since?: Date): Promise<number> {
    return this.sends.countDocuments(since ? { state, created_at: { $gte: since } } : { state });
  }

  /**
   * A webhook's delivery status on the send with this WhatsApp id (statuses
   * only move forward). False when no send has that id (yet).
   */
  async recordDelivery(waMessageId: string, fields: DeliveryFields): Promise<boolean> {
    const r = await this.sends.updateOne({ wa_message_id: waMessageId, delivery_status: { $nin: statusesNotBelow(fields.delivery_status) } }, { $set: fields });
    return r.matched > 0 || (await this.sends.countDocuments({ wa_message_id: waMessageId })) > 0;
  }

  /** A delivery status (kept early) on send `key`. */
  async setDelivery(key: Doc['_id'], fields: DeliveryFields): Promise<void> {
    await this.sends.updateOne({ _id: key }, { $set: fields });
  }

  /** Keeps a status that arrived before its send was marked sent; a later status kept already wins. */
  async keepEarly(waMessageId: string, fields: DeliveryFields, receivedAt: Date): Promise<void> {
    try {
      await this.early.updateOne({ _id: waMessageId, delivery_status: { $nin: statusesNotBelow(fields.delivery_status) } }, { $set: { ...fields, received_at: receivedAt } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // a later status is already kept
    }
  }

  /** The status kept early for this WhatsApp id, or null. */
  earlyStatus(waMessageId: string): Promise<Doc | null> {
    return this.early.findOne({ _id: waMessageId });
  }

  async dropEarly(waMessageId: string): Promise<void> {
    await this.early.deleteOne({ _id: waMessageId });
  }

  /** Forgets statuses kept since before `cutoff` (of messages this service never sent). */
  async dropEarlyBefore(cutoff: Date): Promise<void> {
    await this.early.deleteMany({ received_at: { $lt: cutoff } });
  }
}
