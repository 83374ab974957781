/**
 * Parsing of Meta-format WhatsApp webhook bodies (`entry[].changes[].value`)
 * into the events the runtime acts on: inbound customer messages and status
 * updates for messages we sent. Pure and total: `parseWebhook` never throws.
 *
 * Unknown fields are tolerated everywhere (Meta adds fields without notice),
 * but a body whose known fields have the wrong shape is rejected as a whole:
 * a webhook carrying one malformed message is a malformed webhook, and
 * answering 400 for it is safer than silently storing part of it and
 * acknowledging the rest.
 *
 * Every string taken from a body is bounded: human text (bodies, captions,
 * names, titles, addresses, filenames) is clipped to MAX_TEXT, and anything
 * else (ids, payloads, phone numbers, media metadata) longer than the Cloud
 * API can produce makes the body malformed. Timestamps from the future are
 * taken as the time of receipt.
 */
import { z } from 'zod';
import { charCount, LIMITS } from './messages.ts';
import { normalizeNumber } from './phone.ts';

export type InboundKind =
  | 'text' | 'button' | 'interactive' | 'image' | 'video' | 'audio' | 'document'
  | 'sticker' | 'location' | 'contacts' | 'reaction' | 'unsupported';

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** A message a WhatsApp user sent to one of our business numbers. */
export interface InboundMessage {
  kind: 'message';
  /** `messages[].id` */
  waMessageId: string;
  /** The sender in stored form (`normalizeNumber(messages[].from)`). */
  from: string;
  /** The sender as sent by WhatsApp. */
  waFrom: string;
  /** `contacts[].profile.name` matched by `wa_id`, else the first contact's. */
  name?: string;
  /** As sent, unless more than MAX_FUTURE_SKEW_MS ahead of receipt: then the time of receipt. */
  timestamp: Date;
  /** Unknown message types map to `unsupported`. */
  type: InboundKind;
  /** Human-readable content (see `textOf` below); at most 4096 characters. */
  text: string;
  buttonPayload?: string;
  interactiveReplyId?: string;
  interactiveType?: 'button_reply' | 'list_reply';
  media?: { type: MediaKind; id: string; mimeType?: string; sha256?: string; caption?: string; filename?: string; url?: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  /** The `contacts` array of a contacts message, as sent, its leading cards within MAX_CONTACT_CARDS and MAX_CONTACTS_JSON. */
  contacts?: unknown[];
  /** `emoji` is '' when the user removed their reaction. */
  reaction?: { messageId: string; emoji: string };
  /** The message this one replies to. */
  context?: { from?: string; id?: string };
  /** `metadata.display_phone_number` */
  businessNumber?: string;
}

/** A delivery status of a message we sent. */
export interface StatusUpdate {
  kind: 'status';
  /** `statuses[].id`: the outbound message this status refers to. */
  waMessageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipient: string;
  timestamp: Date;
  errors?: { code?: number; title?: string; message?: string }[];
}

export type WebhookEvent = InboundMessage | StatusUpdate;
export type ParseResult = { ok: true; events: WebhookEvent[] } | { ok: false; reason: string };

/** Most events (messages plus statuses, counted as sent) one body may carry. */
export const MAX_EVENTS = 100;
/** Longest text kept in any human-readable field (a text message's own limit); longer is clipped. */
export const MAX_TEXT = 4096;

// Caps on machine strings, in characters (code points, as WhatsApp counts them). Longer makes the body malformed.
/** Message ids (`wamid.…`, about 60 in Meta's examples); the same bound our builders take for a reply-to id. */
export const MAX_MESSAGE_ID = 256;
/** Media ids (about 16 digits); the same bound our builders take for a media id to send. */
export const MAX_MEDIA_ID = 128;
/** Interactive reply ids: ids we chose when sending, at most 256 for a button and 200 for a list row (Cloud API). */
export const MAX_REPLY_ID = LIMITS.buttonId;
/** Quick-reply payloads: the button's text (25 at most) or a payload we sent with the template, which our builder caps at 1024. */
export const MAX_BUTTON_PAYLOAD = LIMITS.templateParam;
/** Phone numbers: E.164 has at most 15 digits; room for `+`, spaces and dashes of a display format. */
export const MAX_PHONE = 32;
/** MIME types: WhatsApp's supported types run to 73 (a PowerPoint document), `audio/ogg; codecs=opus` included. */
export const MAX_MIME_TYPE = 256;
/** Media hashes: SHA-256 is 44 characters in base64 (what Meta sends), 64 in hex. */
export const MAX_SHA256 = 128;
/** Media URLs: Meta's signed lookaside URLs run to a few hundred; 2048 is the usual practical limit of a URL. */
export const MAX_MEDIA_URL = 2048;
/** Reaction emoji: the longest emoji sequences (a flag with tags, a couple with skin tones) are about 10 code points. */
export const MAX_EMOJI = 32;
/** Contact cards kept from one contacts message (the cards are stored as sent); later ones are dropped. */
export const MAX_CONTACT_CARDS = 20;
/** Serialized size of the contact cards kept from one message: about 1 KiB a card is generous. */
export const MAX_CONTACTS_JSON = 32 * 1024;
/** Errors kept from one status (Meta sends one); later ones are dropped. */
export const MAX_STATUS_ERRORS = 10;
/** How far ahead of our clock a timestamp may be before it is taken as the time of receipt instead. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
const MEDIA_KINDS: readonly string[] = ['image', 'video', 'audio', 'document', 'sticker'] satisfies MediaKind[];
const KINDS: readonly string[] = [
  'text', 'button', 'interactive', 'image', 'video', 'audio', 'document',
  'sticker', 'location', 'contacts', 'reaction', 'unsupported',
] satisfies InboundKind[];

const str = z.string();
/** A string of at most `max` code points; the cheap UTF-16 length decides first, so a huge string costs nothing to refuse. */
const capped = (max: number) => z.string().refine(
  (s) => s.length <= max || (s.length <= 2 * max && charCount(s) <= max),
  { message: `longer than ${max} characters`, abort: true },
);
const id = (max: number) => capped(max).min(1, 'expected a non-empty string');
const phone = capped(MAX_PHONE).refine((s) => normalizeNumber(s) !== null, 'expected a phone number');
/** Meta sends unix seconds as a digit string; a number is accepted too. */
const unixSeconds = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(/^\d{1,12}$/, 'expected unix seconds'),
);
const coordinate = (limit: number) => z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z.number().min(-limit, 'out of range').max(limit, 'out of range'),
);

const envelopeSchema = z.looseObject({
  entry: z.array(z.looseObject({
    changes: z.array(z.looseObject({ field: str.optional(), value: z.unknown().optional() })),
  })),
});
const valueSchema = z.looseObject({
  metadata: z.looseObject({ display_phone_number: capped(MAX_PHONE).optional() }).optional(),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
});
// Sender profiles only name the sender, so one that does not parse (a wa_id too long included) is skipped.
const contactSchema = z.looseObject({ wa_id: capped(MAX_PHONE).optional(), profile: z.looseObject({ name: str.optional() }).optional() });
const messageSchema = z.looseObject({
  from: phone,
  id: id(MAX_MESSAGE_ID),
  timestamp: unixSeconds,
  type: str,
  context: z.unknown().optional(),
});
// The reply context is informative: a badly typed one is dropped, but an over-long one still refuses the body.
const contextShape = z.looseObject({ from: str.optional(), id: str.optional() });
const contextSchema = z.looseObject({ from: capped(MAX_PHONE).optional(), id: capped(MAX_MESSAGE_ID).optional() });
const textSchema = z.looseObject({ body: str });
const buttonSchema = z.looseObject({ text: str, payload: capped(MAX_BUTTON_PAYLOAD).optional() });
const replySchema = z.looseObject({ id: id(MAX_REPLY_ID), title: str });
const interactiveSchema = z.looseObject({ type: str });
const mediaSchema = z.looseObject({
  id: id(MAX_MEDIA_ID),
  mime_type: capped(MAX_MIME_TYPE).optional(),
  sha256: capped(MAX_SHA256).optional(),
  caption: str.optional(),
  filename: str.optional(),
  url: capped(MAX_MEDIA_URL).optional(),
});
const locationSchema = z.looseObject({
  latitude: coordinate(90), longitude: coordinate(180), name: str.optional(), address: str.optional(),
});
const contactCardName = z.looseObject({
  name: z.looseObject({ formatted_name: str.optional(), first_name: str.optional(), last_name: str.optional() }),
});
const reactionSchema = z.looseObject({ message_id: id(MAX_MESSAGE_ID), emoji: capped(MAX_EMOJI).optional() });
const statusKindSchema = z.looseObject({ status: str });
const statusSchema = z.looseObject({
  id: id(MAX_MESSAGE_ID), status: z.enum(STATUSES), timestamp: unixSeconds, recipient_id: phone, errors: z.array(z.unknown()).optional(),
});
// Error details are informative only, so a badly typed one is dropped rather than fatal.
const statusErrorSchema = z.looseObject({
  code: z.number().optional().catch(undefined),
  title: str.optional().catch(undefined),
  message: str.optional().catch(undefined),
  error_data: z.looseObject({ details: str.optional() }).optional().catch(undefined),
});

type Path = (string | number)[];

/** Internal signal: parseWebhook answers it as `ok: false`; escaping, a client would get NOT_A_WEBHOOK (its publicCode). Exported for the registry test. */
export class Rejected extends Error {
  override readonly name = 'WebhookRejected';
  /** Escaping to a client (src/infra/errors.ts `toAppError`): NOT_A_WEBHOOK with this message, which names the path. */
  readonly publicCode = 'NOT_A_WEBHOOK';
  readonly publicMessage = true;
}

/**
 * Parses a webhook body; `ok: false` carries a short reason naming the offending path.
 * `now` (epoch ms) is the time of receipt, which a timestamp from the future is clamped to.
 */
export function parseWebhook(body: unknown, now: number = Date.now()): ParseResult {
  try {
    return { ok: true, events: collect(body, now) };
  } catch (e) {
    return { ok: false, reason: e instanceof Rejected ? e.message : 'unreadable webhook body' };
  }
}

function collect(body: unknown, now: number): WebhookEvent[] {
  const envelope = check(envelopeSchema, body, []);
  const values: { value: z.infer<typeof valueSchema>; path: Path }[] = [];
  let count = 0;
  envelope.entry.forEach((entry, e) => entry.changes.forEach((change, c) => {
    // Other fields (account updates, template status, …) carry no chat events.
    if (change.field !== undefined && change.field !== 'messages') return;
    const path = ['entry', e, 'changes', c, 'value'];
    const value = check(valueSchema, change.value, path);
    count += (value.messages?.length ?? 0) + (value.statuses?.length ?? 0);
    values.push({ value, path });
  }));
  // Counted before the items are read, so an oversized body costs little.
  if (count > MAX_EVENTS) throw new Rejected('too many events');

  const events: WebhookEvent[] = [];
  for (const { value, path } of values) {
    const contacts = (value.contacts ?? []).flatMap((x) => {
      const r = contactSchema.safeParse(x);
      return r.success ? [r.data] : [];
    });
    const businessNumber = value.metadata?.display_phone_number;
    value.messages?.forEach((m, i) => events.push(toMessage(m, [...path, 'messages', i], contacts, businessNumber, now)));
    value.statuses?.forEach((s, i) => {
      const status = toStatus(s, [...path, 'statuses', i], now);
      if (status) events.push(status);
    });
  }
  return events;
}

function toMessage(
  raw: unknown, path: Path, contacts: z.infer<typeof contactSchema>[], businessNumber: string | undefined, now: number,
): InboundMessage {
  const m = check(messageSchema, raw, path);
  const at = (key: string): Path => [...path, key];
  const context = contextShape.safeParse(m.context).success ? check(contextSchema, m.context, at('context')) : undefined;
  const type: InboundKind = KINDS.includes(m.type) ? (m.type as InboundKind) : 'unsupported';
  const sender = contacts.find((c) => c.wa_id === m.from) ?? contacts[0];
  const name = sender?.profile?.name ? clip(sender.profile.name) : undefined;
  const event: InboundMessage = {
    kind: 'message',
    waMessageId: m.id,
    from: normalizeNumber(m.from) as string, // checked by `phone`
    waFrom: m.from,
    name,
    timestamp: fromUnix(m.timestamp, now),
    type,
    text: '',
    context: context ? compact({ from: context.from, id: context.id }) : undefined,
    businessNumber,
  };
  switch (type) {
    case 'text':
      event.text = clip(check(textSchema, m.text, at('text')).body);
      break;
    case 'button': {
      const b = check(buttonSchema, m.button, at('button'));
      event.text = clip(b.text);
      event.buttonPayload = b.payload;
      break;
    }
    case 'interactive': {
      const i = check(interactiveSchema, m.interactive, at('interactive'));
      // Other subtypes (e.g. flow `nfm_reply`) keep the type but carry no reply to act on.
      if (i.type === 'button_reply' || i.type === 'list_reply') {
        const reply = check(replySchema, i[i.type], [...at('interactive'), i.type]);
        event.text = clip(reply.title);
        event.interactiveReplyId = reply.id;
        event.interactiveType = i.type;
      }
      break;
    }
    case 'location': {
      const l = check(locationSchema, m.location, at('location'));
      const label = [l.name, l.address].filter((s) => s).join(', ');
      event.text = clip(`${label ? `${label} ` : ''}(${l.latitude},${l.longitude})`);
      event.location = compact({
        latitude: l.latitude, longitude: l.longitude,
        name: l.name === undefined ? undefined : clip(l.name),
        address: l.address === undefined ? undefined : clip(l.address),
      });
      break;
    }
    case 'contacts': {
      const cards = keptCards(check(z.array(z.unknown()), m.contacts, at('contacts')));
      event.text = clip(cards.map(cardName).filter((s) => s).join(', '));
      event.contacts = cards;
      break;
    }
    case 'reaction': {
      const r = check(reactionSchema, m.reaction, at('reaction'));
      event.text = r.emoji ?? '';
      event.reaction = { messageId: r.message_id, emoji: r.emoji ?? '' };
      break;
    }
    case 'unsupported':
      break;
    default: {
      if (!MEDIA_KINDS.includes(type)) break;
      const md = check(mediaSchema, m[type], at(type));
      event.text = md.caption === undefined ? '' : clip(md.caption);
      event.media = compact({
        type: type as MediaKind, id: md.id, mimeType: md.mime_type, sha256: md.sha256,
        caption: md.caption === undefined ? undefined : clip(md.caption),
        filename: md.filename === undefined ? undefined : clip(md.filename),
        url: md.url,
      });
    }
  }
  return compact(event);
}

/** A status event, or undefined for statuses we do not track (`deleted`, `warning`, …). */
function toStatus(raw: unknown, path: Path, now: number): StatusUpdate | undefined {
  const { status } = check(statusKindSchema, raw, path);
  if (!(STATUSES as readonly string[]).includes(status)) return undefined;
  const s = check(statusSchema, raw, path);
  const errors = s.errors?.slice(0, MAX_STATUS_ERRORS).map((x) => {
    const r = statusErrorSchema.safeParse(x);
    if (!r.success) return {};
    const message = r.data.message ?? r.data.error_data?.details;
    return compact({
      code: r.data.code,
      title: r.data.title === undefined ? undefined : clip(r.data.title),
      message: message === undefined ? undefined : clip(message),
    });
  });
  return compact({
    kind: 'status' as const,
    waMessageId: s.id,
    status: s.status,
    recipient: normalizeNumber(s.recipient_id) as string, // checked by `phone`
    timestamp: fromUnix(s.timestamp, now),
    errors: errors && errors.length > 0 ? errors : undefined,
  });
}

/** The leading cards within MAX_CONTACT_CARDS and MAX_CONTACTS_JSON: like text, shared cards are clipped, not refused. */
function keptCards(cards: unknown[]): unknown[] {
  const kept: unknown[] = [];
  let size = 0;
  for (const card of cards.slice(0, MAX_CONTACT_CARDS)) {
    size += JSON.stringify(card ?? null).length;
    if (size > MAX_CONTACTS_JSON) break;
    kept.push(card);
  }
  return kept;
}

function cardName(card: unknown): string {
  const r = contactCardName.safeParse(card);
  if (!r.success) return '';
  const n = r.data.name;
  return n.formatted_name || [n.first_name, n.last_name].filter((s) => s).join(' ');
}

/** Parses `value` at `path`, or rejects the body with the first problem found. */
function check<T extends z.ZodType>(schema: T, value: unknown, path: Path): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = formatPath([...path, ...(issue?.path ?? [])]);
  const what = issue?.code === 'invalid_type' ? `expected ${article(issue.expected)}` : (issue?.message ?? 'invalid');
  throw new Rejected(`${where}: ${what}`);
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || 'body';
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Unix seconds as a Date, a forged future (which would hold the 24-hour window open and a chat atop agents' lists) taken as `now`. */
function fromUnix(seconds: string, now: number): Date {
  const ms = Number(seconds) * 1000;
  return new Date(ms > now + MAX_FUTURE_SKEW_MS ? now : ms);
}

/** At most MAX_TEXT UTF-16 units, never splitting a surrogate pair. */
function clip(s: string): string {
  if (s.length <= MAX_TEXT) return s;
  const last = s.charCodeAt(MAX_TEXT - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_TEXT - 1 : MAX_TEXT);
}

/** Drops keys whose value is undefined, so events compare and serialize cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
