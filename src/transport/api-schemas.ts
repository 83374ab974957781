/**
 * The zod schemas of what the transports send (response bodies, WebSocket
 * pushes) and the shape of a route's description. `openapi.ts` and
 * `asyncapi.ts` turn them into the interface documents with `z.toJSONSchema`,
 * and the tests validate every response and frame against those documents,
 * so a schema here that stops matching the code fails the suite.
 */
import { z } from 'zod';
import { CUSTOMER_TYPES, type CustomerType } from '../domain/channels.ts';
import { ERRORS, type ErrorCode } from '../infra/errors.ts';

export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

/** `{code, message}`, the code one of `codes` (every registered code when omitted). */
export const errorDetail = (codes: readonly ErrorCode[] = ERROR_CODES) =>
  z.object({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string() });

/** The HTTP error body (CONTRACT.md): `{"status": 0, "error": {"code", "message"}}`. */
export const errorBody = (codes?: readonly ErrorCode[]) => z.object({ status: z.literal(0), error: errorDetail(codes) });

/** A success body: `{"status": 1, ...fields}`. */
export const okBody = <T extends z.ZodRawShape>(shape: T) => z.object({ status: z.literal(1), ...shape });

const isoTime = z.iso.datetime({ offset: true });
const nullableText = z.string().nullable();
export const customerType = z.enum(CUSTOMER_TYPES as [CustomerType, ...CustomerType[]]);
export const chatStatus = z.enum(['active', 'pending', 'snoozed', 'resolved']);
/** A listed chat's status: an agents' status, or `bot` (only the discount bot has talked with it; the `Discount_Bot` filter). */
const chatListing = z.enum(['active', 'pending', 'snoozed', 'resolved', 'bot']);

/** A chat's CSAT question and answer (3 good, 2 okay, 1 poor). */
export const csatView = z.object({
  conversation: z.number().int().min(1),
  status: z.enum(['asked', 'rated', 'expired']),
  score: z.union([z.literal(1), z.literal(2), z.literal(3)]).nullable(),
  asked_at: isoTime.nullable(),
  rated_at: isoTime.nullable(),
});

/** A chat as agents receive it (`chat-views.ts` `chatOut`): lists, replies and `room_update*` pushes. */
export const chatView = z.looseObject({
  chat_id: z.string(),
  customer: z.string(),
  customer_name: nullableText.optional(),
  customer_type: customerType,
  channel: z.string().optional(),
  status: chatListing,
  last_msg_by: nullableText.optional(),
  last_message: nullableText.optional(),
  last_message_time: isoTime.nullable(),
  last_message_time_ist: nullableText,
  status_updated_by: nullableText.optional(),
  status_updated_at: isoTime.nullable(),
  created_at: isoTime.nullable(),
  last_seq: z.number().int().min(0).optional(),
  /** Messages after the asking agent's read cursor (lists only). */
  unseen_count: z.number().int().min(0).optional(),
  state: z.string().optional().describe('the chat machine\'s state: new, bot, active, pending, snoozed, snoozedUntilReply, rating (resolved, awaiting the CSAT answer), resolved'),
  assignee: nullableText.describe('the agent the chat is assigned to'),
  team: nullableText.describe('the team it was assigned within (null: the default pool, or not assigned yet)'),
  assigned_at: isoTime.nullable(),
  waiting_since: isoTime.nullable().describe('set while active and unassigned: the Unassigned queue\'s order, longest waiting first'),
  snoozed_until: isoTime.nullable().describe('a timed snooze\'s wake-up time'),
  labels: z.array(z.string()),
  conversation: z.number().int().min(1).describe('open → resolve cycles, 1 for the first'),
  csat: csatView.nullable(),
});

/** A message as agents receive it (`chat-views.ts` `messageOut`): history, `send_message` and `new_message`. */
export const messageView = z.looseObject({
  _id: z.string(),
  chat_id: z.string(),
  seq: z.number().int().min(1),
  sender: z.string(),
  type: z.string(),
  message: z.string(),
  message_type: z.string(),
  channel: z.string(),
  datetime: isoTime.nullable(),
  datetime_ist: nullableText,
  seen_by: z.array(z.string()),
  wa_message_id: z.string().optional(),
  media_type: z.string().optional(),
  media: z.record(z.string(), z.unknown()).optional(),
  media_status: z.enum(['pending', 'stored', 'failed']).optional(),
  media_attempts: z.number().int().min(0).optional(),
  mediaUrl: z.string().optional(),
  media_error: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
  private: z.literal(true).optional().describe('a private note (`message_type` `note`): shown to agents, never sent to WhatsApp'),
  mentions: z.array(z.string()).optional().describe('a note\'s @usernames'),
});

/** Where one message's media download stands: the `message_media` push and the `retry_media` reply. */
export const mediaProgress = z.object({
  chat_id: z.string(),
  message_id: z.string(),
  media_id: z.string(),
  media_status: z.enum(['pending', 'stored', 'failed']),
  media_attempts: z.number().int().min(0).describe('downloads started so far'),
  mediaUrl: z.string().optional().describe('stored: GET /api/media/{id} (Authorization: Bearer)'),
  media_link: z.string().optional().describe('stored: the same path signed for this file only (exp, sig), usable without a header until media_link_expires_at'),
  media_link_expires_at: isoTime.optional(),
  media_error: z.string().optional().describe('failed: why; pending: why the last attempt failed'),
  next_attempt_at: isoTime.optional().describe('pending after a failed attempt: when the next one starts'),
});

/** `GET /api/dashboard/stats` `data` and the `dashboard_stats` push. */
export const dashboardStats = z.object({ active: z.number().int(), resolved: z.number().int(), pending: z.number().int() });

/**
 * The pushes (spec FR-3 and the delivery outcomes), by event name. Their
 * producers are the chat effects (`new_message`, `room_update*`,
 * `chat_status_updated`, `message_status`), the dashboard counters
 * (`dashboard_stats`) and the outbox (`message_status`, `message_media`).
 */
export const PUSHES = {
  new_message: { room: 'the chat', summary: 'A message was added to the chat (customer, agent or bot). Being pushed to a connection marks it seen by that connection\'s agent (the chat is open there).', data: messageView },
  room_update: { room: 'dashboard', summary: 'A Partner chat changed (FR-3: room update by customer type); `status` is the chat\'s status after the change.', data: chatView },
  room_update_customer: { room: 'dashboard', summary: 'A Customer chat changed.', data: chatView },
  room_update_vendor: { room: 'dashboard', summary: 'A Vendor chat changed.', data: chatView },
  room_update_srdp: { room: 'dashboard', summary: 'An SRDP chat changed.', data: chatView },
  dashboard_stats: { room: 'dashboard', summary: 'The live counters; the `data` of GET /api/dashboard/stats.', data: dashboardStats },
  chat_status_updated: {
    room: 'dashboard',
    summary: 'A chat was resolved or re-opened (by an agent, or by the customer writing again): every agent\'s list moves it between tabs; a `dashboard_stats` push carries the new counts.',
    data: z.object({ chat_id: z.string(), customer: z.string(), status: chatStatus, previous_status: chatStatus, status_updated_by: z.string(), status_updated_at: isoTime, snoozed_until: isoTime.nullable().optional() }),
  },
  chat_assigned: {
    room: 'dashboard',
    summary: 'A chat changed hands: assigned by round robin (`by` `auto`), by an agent, or released when it reopens (`assignee` null: in the Unassigned queue).',
    data: z.object({ chat_id: z.string(), customer: z.string(), assignee: nullableText, previous_assignee: nullableText, team: nullableText, by: z.string(), at: isoTime }),
  },
  mention: {
    room: 'the agent',
    summary: 'A private note names this agent (`@username`).',
    data: z.object({ chat_id: z.string(), customer: z.string(), message_id: z.string(), seq: z.number().int().min(1), by: z.string(), text: z.string(), at: isoTime }),
  },
  agent_typing: {
    room: 'the chat',
    summary: 'An agent is typing in the chat (sent at most every few seconds while it types; show it for ~5 s).',
    data: z.object({ chat_id: z.string(), agent: z.string(), at: isoTime }),
  },
  agent_availability: {
    room: 'dashboard',
    summary: 'An agent\'s availability changed: set in the console, or `offline` after AGENT_OFFLINE_AFTER_MS without a socket on any pod.',
    data: z.object({ agent: z.string(), status: z.enum(['online', 'busy', 'offline']), at: isoTime }),
  },
  message_status: {
    room: 'the chat',
    summary: 'An outbound message moved on: outbox outcome (`sent`, `failed`, `uncertain`, …) or WhatsApp delivery status (`sent`, `delivered`, `read`, `failed`).',
    data: z.looseObject({
      chat_id: z.string(),
      message_id: z.string().optional(),
      outbox_key: z.string().optional(),
      wa_message_id: z.string().optional(),
      status: z.string(),
      at: isoTime.optional(),
      error: z.unknown().optional(),
    }),
  },
  message_media: {
    room: 'the chat',
    summary: 'The download of a customer\'s media file moved on: recorded (`pending`, 0 attempts), an attempt failed (`pending`, `media_error`, `next_attempt_at`), `stored` (`mediaUrl`, and `media_link` for <img>/<video> sources), or `failed` with `media_error`.',
    data: mediaProgress,
  },
} as const satisfies Record<string, { room: string; summary: string; data: z.ZodType }>;

export type Auth = 'agent' | 'admin' | 'signature';

export interface ResponseDoc {
  description: string;
  /** JSON body schema (omitted for non-JSON bodies). */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

/** One HTTP operation, as the route file that registers it describes it. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The OpenAPI path, e.g. `/api/machines/{name}` (the router's `/api/machines/:name`). */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth?: Auth;
  params?: Record<string, { schema: z.ZodType; description?: string }>;
  /** Query parameters, one per property of this object schema. */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Headers the route reads (besides Authorization). */
  headers?: Record<string, { schema: z.ZodType; description: string }>;
  /** Responses other than the error body, by status. */
  responses: Record<number, ResponseDoc>;
  /** The 4xx codes this route answers with the error body (auth, body, encoding and 5xx codes are added from `auth`, `body` and `params`). */
  errors?: ErrorCode[];
  /** GET that acts: HEAD answers 405. */
  sideEffects?: boolean;
}
