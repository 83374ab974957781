import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ChatService } from '../actors/chat/chat-service.ts';
import { DISCOUNT_BOT_FILTER, SPECIAL_FILTERS, type ChatQueries } from '../actors/chat/chat.queries.ts';
import type { PresenceStore } from '../actors/chat/presence-store.ts';
import { ShownReads } from '../actors/chat/shown-reads.ts';
import { CHANNELS, CUSTOMER_TYPES, type CustomerType } from '../domain/channels.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import type { Logger } from '../infra/logger.ts';
import { chatStatus, chatView, mediaProgress, messageView } from './api-schemas.ts';
import { validate } from './validate.ts';
import { inboxEventHandler, inboxEventSummaries, inboxReplySchemas, inboxSchemas, labelName, type InboxEvent, type InboxEventDeps } from './inbox-events.ts';
import type { Connection, Frame, WsHub } from './ws-hub.ts';

const phone = z.string().describe('a customer number: 10 digits, or 91 and 10 digits').transform((v, ctx) => normalizeNumber(v) ?? (ctx.addIssue({ code: 'custom', message: 'not a phone number' }), z.NEVER));
const chatId = z.string().min(1).max(64);
const customerType = z.enum(CUSTOMER_TYPES as [CustomerType, ...CustomerType[]]);
const page = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(10),
};
/** Empty strings from dashboards' unset selects mean "no filter". */
const blankAsUndefined = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' || v === null || v === 'all' ? undefined : v), s.optional());

/** Each client event's `data`, as validated below. */
export const schemas = {
  config: z.looseObject({ sender: z.string().optional() }),
  search_chat: z.looseObject({ sender: z.string().optional(), customer: phone, customer_type: blankAsUndefined(customerType.describe("which of the number's chats (one per stakeholder type); without it, the one with the latest activity")) }),
  fetch_all_chats: z.looseObject({
    status: blankAsUndefined(z.enum(['active', 'pending', 'snoozed', 'resolved'])),
    view: blankAsUndefined(z.enum(['mine', 'unassigned', 'all'])).describe('team inbox: the agent\'s own chats, the Unassigned queue (longest waiting first is `waiting_since`), or all'),
    label: blankAsUndefined(labelName),
    customer_type: blankAsUndefined(customerType),
    search: blankAsUndefined(z.string().max(100).describe('part of a customer number or name, or a special filter: Active_Approved, Pending, InJourney, Suspend (from the users profile), Discount_Bot (the chats only the discount bot has had, left out of every other list)')),
    ...page,
  }),
  fetch_chats_by_user: z.looseObject({ chat_id: chatId, ...page }),
  new_chat: z.looseObject({ customer: phone.optional(), sender: z.string().optional(), customer_type: customerType.default('Customer') }),
  join_chat: z.looseObject({ chat_id: chatId, type: z.string().optional() }),
  join_chat_customer: z.looseObject({ chat_id: chatId, type: z.string().optional(), customer_type: customerType.optional() }),
  send_message: z.looseObject({ chat_id: chatId, sender: z.string().optional(), type: z.string().optional(), message: z.string().trim().min(1).max(4096), customer_type: customerType.optional() }),
  leave_chat: z.looseObject({ chat_id: chatId }),
  fetch_missed: z.looseObject({ chat_id: chatId, after_seq: z.coerce.number().int().min(0) }),
  update_chat_status: z.looseObject({
    customer_number: phone,
    update_by_number: z.string().optional(),
    status: z.enum(['active', 'pending', 'resolved']),
    customer_type: blankAsUndefined(customerType.describe("which of the number's chats (one per stakeholder type); without it, the one with the latest activity")),
  }),
  retry_media: z.looseObject({ message_id: z.string().min(1).max(100) }),
  ...inboxSchemas,
};

export type AgentEvent = keyof typeof schemas;

const paged = { total: z.number().int().min(0), page: z.number().int().min(1), page_size: z.number().int().min(1) };
const joined = z.object({ chat_id: z.string(), joined: z.literal(true) });

/** Each event's reply `data`, as `handle` below returns it (the AsyncAPI document and the tests use these). */
export const replySchemas = {
  config: z.object({
    sender: z.string(),
    role: z.enum(['agent', 'admin']),
    customer_types: z.array(customerType),
    channels: z.array(z.object({ id: z.string(), customer_type: customerType, automated: z.boolean() })),
    statuses: z.array(chatStatus),
    special_filters: z.array(z.string()),
    availability: z.enum(['online', 'busy', 'offline']).describe('this agent\'s availability (team inbox)'),
  }),
  search_chat: z.object({ chat: chatView.nullable() }),
  fetch_all_chats: z.object({ chats: z.array(chatView), ...paged }),
  fetch_chats_by_user: z.object({ chat: chatView, messages: z.array(messageView).describe('newest first'), ...paged }),
  new_chat: z.object({ chat: chatView }),
  join_chat: joined,
  join_chat_customer: joined,
  send_message: z.object({ message: messageView }),
  leave_chat: z.object({ chat_id: z.string(), left: z.literal(true) }),
  fetch_missed: z.object({ chat_id: z.string(), last_seq: z.number().int().min(0), messages: z.array(messageView).describe('oldest first, at most 100') }),
  update_chat_status: z.object({ chat: chatView }),
  retry_media: mediaProgress,
  ...inboxReplySchemas,
} as const satisfies Record<AgentEvent, z.ZodType>;

/** One line per event for the documents. */
export const eventSummaries: Record<AgentEvent, string> = {
  config: 'The signed-in agent and the dashboard\'s option lists.',
  search_chat: 'The chat of one customer number, or null.',
  fetch_all_chats: 'One page of chats, newest activity first, with the agent\'s unseen counts (filters: status, customer_type, search or a special filter). Chats only the discount bot has had (status `bot`) are left out unless `search` is `Discount_Bot`.',
  fetch_chats_by_user: 'One chat and one page of its messages (page 1 the newest); marks the chat read for the agent.',
  new_chat: 'Opens (or returns) the chat with a customer on the agent channel of its customer type.',
  join_chat: 'Joins the chat\'s room (its pushes reach this connection; each new_message pushed to it marks the chat read up to that message for this agent, until leave_chat).',
  join_chat_customer: 'Same as join_chat.',
  send_message: 'Sends a text reply to the customer (a retried frame with the same id and text is applied once).',
  leave_chat: 'Leaves the chat\'s room.',
  fetch_missed: 'The messages after `after_seq`, oldest first (at most 100): what a reconnecting dashboard missed.',
  update_chat_status: 'Resolves or re-opens the chat of a customer number.',
  retry_media: 'Tries a failed media download again (a new retry window); the reply and `message_media` pushes tell how it goes. A download not failed is left as it is.',
  ...inboxEventSummaries,
};

export interface AgentEventDeps {
  hub: WsHub;
  chats: ChatService;
  queries: ChatQueries;
  /** Who is in which chat's room (`socket_collection`). */
  presence: PresenceStore;
  pod: string;
  log: Logger;
  /** Media downloads (`retry_media`). */
  media?: { retry(messageId: string): Promise<unknown> };
  /** The team inbox (#18): its events, and agent availability (sockets opening and closing). */
  inbox?: InboxEventDeps;
}

/** The ten events of spec FR-3 (and `retry_media`), validated with zod, answered with their data. */
export function agentEventHandler(deps: AgentEventDeps) {
  const { presence } = deps;
  deps.hub.onLeave = (conn, room) => {
    if (room !== 'dashboard' && !room.startsWith('agent:')) void presence.left(room, conn.id).catch(() => undefined);
  };
  const inbox = deps.inbox && inboxEventHandler(deps.inbox);
  const available = deps.inbox?.availability;
  if (available) {
    deps.hub.onConnection = (conn, open) => {
      const change = open ? available.socketOpened(conn.identity.sub) : available.socketClosed(conn.identity.sub);
      void change.catch((err: unknown) => deps.log.warn({ err, agent: conn.identity.sub }, 'agent availability bookkeeping failed'));
    };
  }
  // A message pushed to an agent with the chat open (a socket in its room) counts as seen by that agent;
  // its own replies already moved its cursor.
  const reads = new ShownReads((agent, chat, upTo) => deps.chats.markRead(agent, chat, upTo), deps.log);
  deps.hub.onMessageShown = (chat, agents, message) => {
    for (const agent of agents) if (agent !== message.sender) reads.shown(agent, chat, message.seq);
  };

  // `/ws/{chat_id}`: the chat must exist (NOT_FOUND closes the connection), and its presence is recorded as join_chat's is.
  deps.hub.onChatConnection = async (conn, chat) => {
    await deps.chats.keyOf(chat);
    if (conn.closed) return;
    await presence.joined(chat, { id: conn.id, user: conn.identity.sub, pod: deps.pod });
    if (conn.closed) await presence.left(chat, conn.id); // it closed while the record was written
  };

  const join = async (conn: Connection, chat: string) => {
    await deps.chats.keyOf(chat); // NOT_FOUND for an unknown chat
    deps.hub.joinRoom(conn, chat);
    await presence.joined(chat, { id: conn.id, user: conn.identity.sub, pod: deps.pod });
    return { chat_id: chat, joined: true };
  };

  return async function handle(conn: Connection, frame: Frame): Promise<unknown> {
    if (!Object.hasOwn(schemas, frame.event)) throw new AppError('UNKNOWN_EVENT', `Unknown event "${frame.event}"`);
    const event = frame.event as AgentEvent;
    const agent = conn.identity.sub;
    const data = validate(schemas[event], frame.data) as Record<string, unknown>;
    // Identity fields must agree with the token (CONTRACT.md "Tokens").
    for (const field of ['sender', 'update_by_number'] as const) {
      if (event !== 'new_chat' && typeof data[field] === 'string' && data[field] !== agent) {
        throw new AppError('FORBIDDEN', `${field} does not match the token's identity`);
      }
    }
    if (Object.hasOwn(inboxSchemas, event)) {
      if (!inbox) throw new AppError('UNKNOWN_EVENT', `Event "${event}" is not served here`);
      return inbox(conn, frame, event as InboxEvent, data);
    }
    switch (event) {
      case 'config':
        return {
          sender: agent,
          role: conn.identity.role,
          customer_types: CUSTOMER_TYPES,
          channels: CHANNELS.map((c) => ({ id: c.id, customer_type: c.customerType, automated: c.automated })),
          statuses: ['active', 'pending', 'snoozed', 'resolved'],
          availability: available ? await available.statusOf(agent) : 'online',
          special_filters: [...SPECIAL_FILTERS.keys(), DISCOUNT_BOT_FILTER],
        };
      case 'search_chat':
        return { chat: await deps.queries.byCustomer(data.customer as string, data.customer_type as CustomerType | undefined) };
      case 'fetch_all_chats':
        return deps.queries.listChats(agent, data as never);
      case 'fetch_chats_by_user': {
        const chat = data.chat_id as string;
        await deps.chats.markRead(agent, chat);
        return deps.queries.history(chat, data as never);
      }
      case 'new_chat': {
        // The customer to chat with: `customer`, or (as in the spec's data) `sender`.
        const customer = (data.customer as string | undefined) ?? normalizeNumber(String(data.sender ?? ''));
        if (!customer) throw new AppError('VALIDATION_FAILED', 'customer: expected the customer phone number');
        const type = data.customer_type as CustomerType;
        const channel = CHANNELS.find((c) => c.customerType === type && !c.automated)!;
        return { chat: await deps.chats.openChat(agent, customer, type, channel.id) };
      }
      case 'join_chat':
      case 'join_chat_customer':
        return join(conn, data.chat_id as string);
      case 'send_message': {
        // A retried frame (same id, same text) is applied once; a reused id with new text is a new message.
        const text = data.message as string;
        const requestId = frame.id === null ? randomUUID() : `${frame.id}:${createHash('sha256').update(text).digest('base64url').slice(0, 16)}`;
        const message = await deps.chats.sendAgentMessage(agent, data.chat_id as string, text, requestId);
        return { message };
      }
      case 'fetch_missed':
        await deps.chats.keyOf(data.chat_id as string);
        return deps.queries.since(data.chat_id as string, data.after_seq as number);
      case 'leave_chat':
        deps.hub.leaveRoom(conn, data.chat_id as string);
        return { chat_id: data.chat_id, left: true };
      case 'update_chat_status':
        return { chat: await deps.chats.setStatus(agent, data.customer_number as string, data.status as 'active' | 'pending' | 'resolved', data.customer_type as CustomerType | undefined) };
      case 'retry_media': {
        const progress = await deps.media?.retry(data.message_id as string);
        if (!progress) throw new AppError('NOT_FOUND', `No media download for message ${String(data.message_id)}`);
        return progress;
      }
    }
  };
}
