/** Owns `chats` (one per customer number and stakeholder type: summary fields beside the chat actor's record), `messages` and `chat_resolve_log`. */
import type { CustomerType } from '../../domain/channels.ts';
import { chatKey, parseChatKey } from '../../domain/chat-key.ts';
import { statusesNotBelow } from '../../domain/delivery-status.ts';
import { docDelta, type DeltaShape } from '../../infra/store/doc-delta.ts';
import { isDuplicateKey, type Collection, type DocumentStore, type Filter, type IndexSpec, type Projection } from '../../infra/store/store.ts';
import type { ActorRecord } from '../runtime/actor-kind.ts';
import type { Doc } from './chat-views.ts';
import { joinUserProfile } from './users-store.ts';

const CHATS = 'chats';
const MESSAGES = 'messages';
const RESOLVE_LOG = 'chat_resolve_log';

/** Spec §5, adapted to DESIGN.md §4: messages live in their own collection, ordered per chat. */
export const CHAT_INDEXES: readonly IndexSpec[] = [
  { collection: CHATS, name: 'status_customer_type', keys: { status: 1, customer_type: 1 } },
  { collection: CHATS, name: 'customer_type_unique', keys: { customer: 1, customer_type: 1 }, unique: true },
  { collection: CHATS, name: 'last_message_time', keys: { last_message_time: -1 } },
  // #18: the due-deadline poll (snooze wake-ups, rating waits), the Unassigned queue (oldest first), agents' open chats and views.
  { collection: CHATS, name: 'deadline_at', keys: { deadline_at: 1 }, sparse: true },
  { collection: CHATS, name: 'status_assignee_waiting', keys: { status: 1, assignee: 1, waiting_since: 1 } },
  { collection: CHATS, name: 'labels', keys: { labels: 1 } },
  { collection: MESSAGES, name: 'chat_seq_unique', keys: { chat_id: 1, seq: -1 }, unique: true },
  { collection: MESSAGES, name: 'chat_datetime', keys: { chat_id: 1, datetime: -1 } },
  { collection: MESSAGES, name: 'chat_idempotency', keys: { chat_id: 1, idempotency_id: 1 } },
  { collection: MESSAGES, name: 'chat_wa_message', keys: { chat_id: 1, wa_message_id: 1 } },
];

/** Indexes of earlier versions, dropped at start-up: one chat per number stopped being the rule when chats became per stakeholder type. */
export const OBSOLETE_CHAT_INDEXES: readonly { collection: string; name: string }[] = [{ collection: CHATS, name: 'customer_unique' }];

/** The statuses that count towards an agent's cap of open chats (snoozed and resolved ones do not). */
export const OPEN_STATUSES = ['active', 'pending'];

/** The save condition that refuses a writer whose fencing token is older than the stored one. */
export function notFencedOut(record: ActorRecord, path: string): Record<string, unknown> {
  return { $or: [{ [path]: { $exists: false } }, { [path]: { $lte: record.fence ?? 0 } }] };
}

/** A WhatsApp delivery status as it is stored on a message (and on its outbox record). */
export interface DeliveryFields {
  delivery_status: string;
  delivery_updated_at: unknown;
  delivery_error?: unknown;
}

/** The outbox's outcome for the message a send carried. */
export interface OutboundOutcome {
  outbound_status: string;
  wa_message_id?: string;
  outbound_error?: unknown;
}

/**
 * How a save finds what changed since the stored version: the record's fields and its context's one by one; the
 * applied-ids window and the transition history are appended to (each save adds one item to each).
 */
const SAVE_DELTA: DeltaShape = { descend: ['actor', 'actor.state', 'actor.state.context'], appendOnly: ['actor.applied', 'actor.history'] };

/** The actor record is most of a chat document and never shown: left out of every read but the actor's own. */
const WITHOUT_ACTOR: Projection = { actor: 0 };
/** Newest activity first; `_id` breaks ties so pages never overlap. */
const NEWEST_FIRST = { last_message_time: -1, _id: -1 } as const;

/**
 * Every read and write of chats and messages: the chat actor's record (one
 * conditional update together with the summary fields, so they never
 * disagree), its effects' message inserts, the agent-facing reads, the
 * outcomes the outbox and media downloads record on messages.
 */
export class ChatStore {
  private readonly chats: Collection;
  private readonly messages: Collection;
  private readonly resolveLog: Collection;
  /** Whether saves write only what changed (`docDelta`), so want the summary saved before: over a wire, yes; in process, no. */
  readonly deltas: boolean;

  constructor(store: DocumentStore) {
    this.deltas = store.kind !== 'memory';
    this.chats = store.collection(CHATS);
    this.messages = store.collection(MESSAGES);
    this.resolveLog = store.collection(RESOLVE_LOG);
  }

  /** The record of the chat actor with this key (`chat-key.ts`), or null. */
  async loadRecord(key: string): Promise<ActorRecord | null> {
    const { customer, customerType } = parseChatKey(key);
    const doc = await this.chats.findOne({ customer, customer_type: customerType }, { projection: { actor: 1 } });
    return (doc?.actor as ActorRecord | undefined) ?? null;
  }

  /**
   * Stores `summary` and `record` in chat `chatId`: a new document when
   * `expected` is 0, otherwise only over version `expected` written by a
   * pod not fenced out. False on conflict. With `previous` (what the store
   * holds at version `expected`), only the fields that changed are written.
   */
  async saveRecord(chatId: string, summary: Doc, record: ActorRecord, expected: number, previous?: { summary: Doc; record: ActorRecord }): Promise<boolean> {
    const fields = { ...summary, actor: record };
    if (expected === 0) {
      try {
        await this.chats.insertOne({ _id: chatId, ...fields });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    // A delta saves bytes on the wire; in process, finding it costs more than setting the whole document (handed over, not copied).
    const delta = this.deltas && previous ? docDelta({ ...previous.summary, actor: previous.record }, fields, SAVE_DELTA) : undefined;
    const update = delta ?? { $set: fields };
    // Grouped: every actor's save of this turn leaves as one write (the store tells each its own outcome).
    // Handed over: the summary is built for this save and the record is never changed once saved.
    const r = await this.chats.updateOne({ _id: chatId, 'actor.version': expected, ...notFencedOut(record, 'actor.fence') }, update, { grouped: true, handOver: true });
    return r.matched === 1;
  }

  /** Chat `chatId` (without its actor record unless `projection` asks), or null. */
  chatById(chatId: string, projection: Projection = WITHOUT_ACTOR): Promise<Doc | null> {
    return this.chats.findOne({ _id: chatId }, { projection });
  }

  /**
   * The chat of `customer` as a stakeholder of `type` (without its actor record unless `projection` asks), or null.
   * Without a type: the number's chat with the latest activity (a number may have one chat per type).
   */
  async chatOf(customer: string, type?: CustomerType, projection: Projection = WITHOUT_ACTOR): Promise<Doc | null> {
    if (type) return this.chats.findOne({ customer, customer_type: type }, { projection });
    const [latest] = await this.chats.find({ customer }, { sort: NEWEST_FIRST, limit: 1, projection });
    return latest ?? null;
  }

  /** One page of the chats matching `match`, newest activity first, and how many match: a sorted, limited find and a count. */
  async chatPage(match: Filter, skip: number, limit: number): Promise<{ chats: Doc[]; total: number }> {
    const [chats, total] = await Promise.all([this.chats.find(match, { sort: NEWEST_FIRST, skip, limit, projection: WITHOUT_ACTOR }), this.chats.countDocuments(match)]);
    return { chats, total };
  }

  /** As `chatPage`, keeping only chats whose customer's `users` profile (as `user`) matches `profile`: one pipeline. */
  async chatPageByProfile(match: Filter, profile: Filter, skip: number, limit: number): Promise<{ chats: Doc[]; total: number }> {
    const [result] = await this.chats.aggregate<{ total: { n: number }[]; chats: Doc[] }>([
      { $match: match },
      // Dropped before anything sorts, joins or copies.
      { $project: WITHOUT_ACTOR },
      joinUserProfile('customer', 'user'),
      { $match: profile },
      { $project: { user: 0 } },
      { $sort: NEWEST_FIRST },
      { $facet: { total: [{ $count: 'n' }], chats: [{ $skip: skip }, { $limit: limit }] } },
    ]);
    return { chats: result?.chats ?? [], total: result?.total[0]?.n ?? 0 };
  }

  /** How many chats are in `status` (the counters' resync). */
  countByStatus(status: string): Promise<number> {
    return this.chats.countDocuments({ status });
  }

  /** Stores a message; one already stored (its effect run again after a crash) is left as it is. */
  async appendMessage(doc: Doc): Promise<void> {
    await ignoreDuplicate(this.messages.insertOne(doc));
  }

  /** The message an event with this idempotency id stored in chat `chatId`, or null. */
  messageByEvent(chatId: string, idempotencyId: string): Promise<Doc | null> {
    return this.messages.findOne({ chat_id: chatId, idempotency_id: idempotencyId });
  }

  /** One page of chat `chatId`'s messages, newest first, and how many it has. */
  async messagePage(chatId: string, skip: number, limit: number): Promise<{ messages: Doc[]; total: number }> {
    const [messages, total] = await Promise.all([this.messages.find({ chat_id: chatId }, { sort: { seq: -1 }, skip, limit }), this.messages.countDocuments({ chat_id: chatId })]);
    return { messages, total };
  }

  /** Messages of chat `chatId` after `afterSeq`, oldest first, at most `limit`. */
  messagesAfter(chatId: string, afterSeq: number, limit: number): Promise<Doc[]> {
    return this.messages.find({ chat_id: chatId, seq: { $gt: afterSeq } }, { sort: { seq: 1 }, limit });
  }

  /** A webhook's delivery status on the messages of chat `chatId` with this WhatsApp id; statuses only move forward. */
  async recordDelivery(chatId: string, waMessageId: string, fields: DeliveryFields): Promise<void> {
    await this.messages.updateMany({ chat_id: chatId, wa_message_id: waMessageId, delivery_status: { $nin: statusesNotBelow(fields.delivery_status) } }, { $set: fields });
  }

  /** The id of chat `chatId`'s message with this WhatsApp id (`_id` only), or null. */
  messageWithWaId(chatId: string, waMessageId: string): Promise<Doc | null> {
    return this.messages.findOne({ chat_id: chatId, wa_message_id: waMessageId }, { projection: { _id: 1 } });
  }

  /** A delivery status on message `messageId` (one that overtook the send's answer); statuses only move forward. */
  async setDelivery(messageId: string, fields: DeliveryFields): Promise<void> {
    await this.messages.updateOne({ _id: messageId, delivery_status: { $nin: statusesNotBelow(fields.delivery_status) } }, { $set: fields });
  }

  /** What became of the WhatsApp send that carried message `messageId`. */
  async setOutboundOutcome(messageId: string, outcome: OutboundOutcome): Promise<void> {
    await this.messages.updateOne({ _id: messageId }, { $set: outcome });
  }

  /** Where the download of message `messageId`'s media stands (`media_status`, `media_attempts`, `mediaUrl`, `media_error`), as the media downloads record it. */
  async setMediaState(messageId: string, set: Record<string, unknown>, unset: readonly string[] = [], opts: { first?: boolean } = {}): Promise<void> {
    // `first`: only on a message without a state yet (a fast download may already have recorded its outcome).
    const filter = opts.first ? { _id: messageId, media_status: { $exists: false } } : { _id: messageId };
    await this.messages.updateOne(filter, { $set: set, ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) });
  }

  /** Actor keys of chats with a deadline due by `now` (at most `limit`): snooze wake-ups and rating waits. */
  async dueKeys(now: number, limit: number): Promise<string[]> {
    const due = await this.chats.find({ deadline_at: { $lte: new Date(now) } }, { limit, projection: { customer: 1, customer_type: 1 } });
    return due.map((d) => chatKey(String(d.customer), d.customer_type as CustomerType));
  }

  /**
   * The Unassigned queue of the chats on `channels` (or, `exclude`, on every other number): active chats nobody
   * has, longest waiting first (`_id`, `customer`, `waiting_since`, `channel`).
   */
  unassignedQueue(numbers: { channels: readonly string[] } | { exclude: readonly string[] }, limit: number): Promise<Doc[]> {
    const channel = 'channels' in numbers ? { $in: [...numbers.channels] } : { $nin: [...numbers.exclude] };
    return this.chats.find({ status: 'active', assignee: null, channel }, { sort: { waiting_since: 1, _id: 1 }, limit, projection: { _id: 1, customer: 1, waiting_since: 1, channel: 1 } });
  }

  /** How many open chats (active or pending) each of `agents` has: what the per-agent cap counts. */
  async openLoads(agents: readonly string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(agents.map((a) => this.chats.countDocuments({ status: { $in: OPEN_STATUSES }, assignee: a })));
    return new Map(agents.map((a, i) => [a, counts[i] ?? 0]));
  }

  /** How many chats match `match` (the inbox counts). */
  countWhere(match: Filter): Promise<number> {
    return this.chats.countDocuments(match);
  }

  /** Records that an agent resolved chat `chatId` (once per event). */
  async logResolved(chatId: string, eventId: string, r: { customer: string; customerType: string; by: string; at: number }): Promise<void> {
    await ignoreDuplicate(this.resolveLog.insertOne({ _id: `${chatId}:${eventId}`, chat_id: chatId, customer: r.customer, customer_type: r.customerType, resolved_by: r.by, resolved_at: new Date(r.at) }));
  }
}

async function ignoreDuplicate(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}
