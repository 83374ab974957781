/**
 * Owns `conversations`: one document per conversation, a chat's open → resolve
 * cycle (`conversation` counts them in the chat machine's context). The chat
 * actor's effects write it; the reports read only this collection, never
 * `messages`, so they cost what the number of conversations in the range costs.
 *
 * Every method is idempotent: an effect retried after a crash writes the same
 * thing again or nothing. Durations are stored when their end is written
 * (first_response_ms, resolution_ms), so the reports group numbers instead of
 * computing dates per document.
 */
import type { CustomerType } from '../../domain/channels.ts';
import { isDuplicateKey, type DocumentStore, type IndexSpec } from '../../infra/store/store.ts';

const CONVERSATIONS = 'conversations';

export const CONVERSATION_INDEXES: readonly IndexSpec[] = [
  // The reports read a range one UTC day at a time, by equality: conversations opened that day
  // (counts, times, CSAT) and resolved that day. Equality on an index's key is what every store
  // serves from the index, the MongoDB test server included (it scans for ranges and aggregations).
  { collection: CONVERSATIONS, name: 'opened_day', keys: { opened_day: 1 } },
  { collection: CONVERSATIONS, name: 'resolved_day', keys: { resolved_day: 1 } },
];

/** The fields a report reads of each conversation. */
export type ConversationFacts = Pick<
  ConversationRecord,
  'assignee' | 'team' | 'channel' | 'first_response_agent' | 'first_response_ms' | 'resolved_at' | 'resolution_ms' | 'csat_asked_at' | 'csat_score'
>;
const FACTS = { _id: 0, assignee: 1, team: 1, channel: 1, first_response_agent: 1, first_response_ms: 1, resolved_at: 1, resolution_ms: 1, csat_asked_at: 1, csat_score: 1 } as const;

export type CsatScore = 1 | 2 | 3;

/** A conversation as stored. Times are Dates (range queries), days are UTC `YYYY-MM-DD` (grouping without date operators). */
export type ConversationRecord = {
  _id: string;
  chat_id: string;
  conversation: number;
  customer: string | null;
  customer_type: CustomerType | null;
  channel: string | null;
  team: string | null;
  assignee: string | null;
  opened_at: Date | null;
  opened_day: string | null;
  assigned_at: Date | null;
  first_response_at: Date | null;
  first_response_agent: string | null;
  first_response_ms: number | null;
  resolved_at: Date | null;
  resolved_day: string | null;
  resolved_by: string | null;
  resolution_ms: number | null;
  csat_asked_at: Date | null;
  csat_score: CsatScore | null;
  csat_at: Date | null;
};

export interface ConversationOpened {
  chatId: string;
  conversation: number;
  customer: string;
  customerType: CustomerType;
  channel: string;
  team: string | null;
  at: number;
}

/** The `_id` of a conversation: one per chat and counter, so a retried `opened` finds the same document. */
export const conversationId = (chatId: string, conversation: number): string => `${chatId}#${conversation}`;

/** The UTC day of an epoch-ms time. */
export const utcDay = (at: number): string => new Date(at).toISOString().slice(0, 10);

/** Fields every document has from its first write, whichever method wrote first. */
function blank(chatId: string, conversation: number): Omit<ConversationRecord, '_id'> {
  return {
    chat_id: chatId,
    conversation,
    customer: null,
    customer_type: null,
    channel: null,
    team: null,
    assignee: null,
    opened_at: null,
    opened_day: null,
    assigned_at: null,
    first_response_at: null,
    first_response_agent: null,
    first_response_ms: null,
    resolved_at: null,
    resolved_day: null,
    resolved_by: null,
    resolution_ms: null,
    csat_asked_at: null,
    csat_score: null,
    csat_at: null,
  };
}

/** `blank` without the fields an update also `$set`s (MongoDB refuses one path in both operators). */
function insertOnly(chatId: string, conversation: number, set: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(blank(chatId, conversation)).filter(([k]) => !(k in set)));
}

export class ConversationLog {
  private readonly conversations;

  constructor(store: DocumentStore) {
    this.conversations = store.collection<ConversationRecord>(CONVERSATIONS);
  }

  /** A conversation began (a new chat or a reopen). A retry writes the same fields; a team an assignment set already is kept. */
  async opened(c: ConversationOpened): Promise<void> {
    const set = {
      customer: c.customer,
      customer_type: c.customerType,
      channel: c.channel,
      opened_at: new Date(c.at),
      opened_day: utcDay(c.at),
    };
    await this.upsert(c.chatId, c.conversation, set, { team: c.team });
    // Created earlier by another fact (an effect order we do not rely on): the opening's team, unless an assignment set one.
    if (c.team !== null) await this.conversations.updateOne({ _id: conversationId(c.chatId, c.conversation), team: null, assigned_at: null }, { $set: { team: c.team } });
  }

  /** The conversation's assignee and team now (the last assignment is the one reports group by). */
  async assigned(chatId: string, conversation: number, a: { assignee: string | null; team: string | null; at: number }): Promise<void> {
    await this.upsert(chatId, conversation, { assignee: a.assignee, team: a.team, assigned_at: new Date(a.at) });
  }

  /** An agent's first reply of the conversation; later ones (and retries) change nothing. */
  async firstResponse(chatId: string, conversation: number, r: { agent: string; at: number }): Promise<void> {
    const opened = await this.openedAt(chatId, conversation);
    const set = {
      first_response_at: new Date(r.at),
      first_response_agent: r.agent,
      first_response_ms: opened === null ? null : Math.max(0, r.at - opened),
    };
    await this.upsertUnset(chatId, conversation, 'first_response_at', set);
  }

  /** The conversation ended; a retry or a second resolve of the same conversation changes nothing. */
  async resolved(chatId: string, conversation: number, r: { by: string; at: number }): Promise<void> {
    const opened = await this.openedAt(chatId, conversation);
    const set = {
      resolved_at: new Date(r.at),
      resolved_day: utcDay(r.at),
      resolved_by: r.by,
      resolution_ms: opened === null ? null : Math.max(0, r.at - opened),
    };
    await this.upsertUnset(chatId, conversation, 'resolved_at', set);
  }

  /** The rating question was sent (the first sending counts). */
  async csatAsked(chatId: string, conversation: number, at: number): Promise<void> {
    await this.upsertUnset(chatId, conversation, 'csat_asked_at', { csat_asked_at: new Date(at) });
  }

  /** The customer's rating (the first answer counts, as the chat records it). */
  async rated(chatId: string, conversation: number, r: { score: CsatScore; at: number }): Promise<void> {
    await this.upsertUnset(chatId, conversation, 'csat_score', { csat_score: r.score, csat_at: new Date(r.at) });
  }

  /** One conversation as stored (tests and the reports' drill-down). */
  async get(chatId: string, conversation: number): Promise<ConversationRecord | null> {
    return this.conversations.findOne({ _id: conversationId(chatId, conversation) });
  }

  /** The conversations opened on one UTC day (`YYYY-MM-DD`), only the fields reports read; an equality on the `opened_day` index. */
  async openedOn(day: string): Promise<ConversationFacts[]> {
    return (await this.conversations.find({ opened_day: day }, { projection: FACTS })) as ConversationFacts[];
  }

  /** How many conversations were resolved on one UTC day; an equality on the `resolved_day` index. */
  async resolvedOn(day: string): Promise<number> {
    return this.conversations.countDocuments({ resolved_day: day });
  }

  private async openedAt(chatId: string, conversation: number): Promise<number | null> {
    const doc = await this.conversations.findOne({ _id: conversationId(chatId, conversation) }, { projection: { opened_at: 1 } });
    const at = doc?.opened_at;
    return at instanceof Date ? at.getTime() : null;
  }

  /** Sets `set` (and `setIfNew` only when this write creates the document). */
  private async upsert(chatId: string, conversation: number, set: Record<string, unknown>, setIfNew: Record<string, unknown> = {}): Promise<void> {
    const _id = conversationId(chatId, conversation);
    await this.conversations.updateOne({ _id }, { $set: set, $setOnInsert: { ...insertOnly(chatId, conversation, set), ...setIfNew } }, { upsert: true });
  }

  /** Sets `set` only while `field` is still null: the first write of that fact wins, a retry is a no-op. */
  private async upsertUnset(chatId: string, conversation: number, field: keyof ConversationRecord, set: Record<string, unknown>): Promise<void> {
    const _id = conversationId(chatId, conversation);
    const r = await this.conversations.updateOne({ _id, [field]: null }, { $set: set });
    if (r.matched === 1) return;
    // Missing document (its `opened` not written yet): create it with this fact. Already set: the duplicate key is the no-op.
    try {
      await this.conversations.insertOne({ _id, ...blank(chatId, conversation), ...set } as ConversationRecord);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
}
