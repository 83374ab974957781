import type { ChatContext, ChatMessage } from '../../machines/chat.machine.ts';
import type { ActorRecord } from '../runtime/actor-kind.ts';

/**
 * Stored documents and the shapes agents see (spec §5.1, FR-3), in one place.
 * Times are stored as UTC dates and shown as ISO strings plus IST text (spec §8.4).
 */

export type Doc = Record<string, unknown>;

/** The chat's summary fields, written together with its actor record (`record`: its state and the soonest deadline, for the due-deadline poll). */
export function chatSummary(c: ChatContext, status: string, record?: Pick<ActorRecord, 'state' | 'deadlines'>): Doc {
  const due = record?.deadlines.length ? Math.min(...record.deadlines.map((d) => d.due)) : null;
  return {
    customer: c.customer,
    customer_name: c.customerName,
    customer_type: c.customerType,
    channel: c.channel,
    status,
    last_msg_by: c.lastMsgBy,
    last_message: c.lastMessage,
    last_message_time: date(c.lastMessageAt),
    last_customer_message_at: date(c.lastCustomerMessageAt),
    status_updated_by: c.statusUpdatedBy,
    status_updated_at: date(c.statusUpdatedAt),
    created_at: date(c.createdAt),
    last_seq: c.lastSeq,
    read_cursors: c.reads,
    bot_messages: c.botMessages ?? 0,
    ...(record ? { state: String(record.state.value), deadline_at: date(due) } : {}),
    assignee: c.inbox.assignee ?? null,
    team: c.inbox.team ?? null,
    assigned_at: date(c.inbox.assignedAt ?? null),
    waiting_since: date(c.inbox.waitingSince ?? null),
    snoozed_until: date(c.inbox.snoozedUntil ?? null),
    labels: c.inbox.labels ?? [],
    conversation: c.inbox.conversation ?? 1,
    csat: c.inbox.csat ? { conversation: c.inbox.csat.conversation, status: c.inbox.csat.status, score: c.inbox.csat.score, asked_at: new Date(c.inbox.csat.askedAt), rated_at: date(c.inbox.csat.ratedAt) } : null,
    last_inbound_wa_id: c.inbox.lastInboundWaId ?? null,
  };
}

export function messageDoc(chatId: string, m: ChatMessage): Doc {
  const media = m.body.media as { type?: string } | undefined;
  return {
    _id: `${chatId}:${m.seq}`,
    chat_id: chatId,
    seq: m.seq,
    idempotency_id: m.id,
    sender: m.sender,
    type: m.type,
    message: m.body.text,
    message_type: m.body.kind,
    channel: m.channel,
    datetime: new Date(m.at),
    ...(m.body.waMessageId ? { wa_message_id: m.body.waMessageId } : {}),
    ...(media ? { media_type: media.type, media } : {}),
    ...(m.body.extra ? { extra: m.body.extra } : {}),
    // A private note (#18): shown to agents only, never sent.
    ...(m.body.kind === 'note' ? { private: true, mentions: (m.body.extra?.mentions as string[] | undefined) ?? [] } : {}),
  };
}

/** A message as agents receive it (push and history). `seen_by` comes from the chat's read cursors. */
export function messageOut(d: Doc): Doc {
  const { _id, idempotency_id: _i, datetime, ...rest } = d;
  return { _id, ...rest, datetime: iso(datetime), datetime_ist: ist(datetime), seen_by: d.seen_by ?? [] };
}

/** Stored fields agents never receive (the actor record, bookkeeping for queries and the bot); `__proto__` would set the copy's prototype. */
const NOT_SHOWN = new Set(['actor', 'read_cursors', 'last_customer_message_at', 'bot_messages', 'deadline_at', 'last_inbound_wa_id', '__proto__']);

/** A chat as agents receive it in lists and `room_update*` pushes. */
export function chatOut(d: Doc): Doc {
  // A loop, not `{ actor, …, ...rest } = d`: object rest with excluded keys is a slow runtime call, and every message pushes one of these.
  const out: Doc = {};
  for (const k in d) if (Object.hasOwn(d, k) && !NOT_SHOWN.has(k)) out[k] = d[k];
  const csat = d.csat as Doc | null | undefined;
  out.chat_id = d._id;
  out.last_message_time = iso(d.last_message_time);
  out.last_message_time_ist = ist(d.last_message_time);
  out.status_updated_at = iso(d.status_updated_at);
  out.created_at = iso(d.created_at);
  // #18 fields; a chat stored before them shows their defaults.
  out.assignee = d.assignee ?? null;
  out.team = d.team ?? null;
  out.assigned_at = iso(d.assigned_at);
  out.waiting_since = iso(d.waiting_since);
  out.snoozed_until = iso(d.snoozed_until);
  out.labels = d.labels ?? [];
  out.conversation = d.conversation ?? 1;
  out.csat = csat ? { ...csat, asked_at: iso(csat.asked_at), rated_at: iso(csat.rated_at) } : null;
  return out;
}

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function iso(v: unknown): string | null {
  return v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : null;
}

/** India Standard Time: UTC+05:30 all year (no daylight saving), so a fixed shift is exact. */
const IST_OFFSET_MS = 330 * 60_000;
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

export function ist(v: unknown): string | null {
  const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : null;
  if (!d || Number.isNaN(d.getTime())) return null;
  // Formatted by hand: Intl.DateTimeFormat cost a few microseconds on every message and chat update.
  const t = new Date(d.getTime() + IST_OFFSET_MS);
  return `${two(t.getUTCDate())}/${two(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}, ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}`;
}
