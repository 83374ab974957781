import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ChatService } from '../actors/chat/chat-service.ts';
import { SPECIAL_FILTERS, type ChatQueries } from '../actors/chat/chat.queries.ts';
import type { PresenceStore } from '../actors/chat/presence-store.ts';
import { CHANNELS, CUSTOMER_TYPES, type CustomerType } from '../domain/channels.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import { validate } from './validate.ts';
import type { Connection, Frame, WsHub } from './ws-hub.ts';

const phone = z.string().transform((v, ctx) => normalizeNumber(v) ?? (ctx.addIssue({ code: 'custom', message: 'not a phone number' }), z.NEVER));
const chatId = z.string().min(1).max(64);
const customerType = z.enum(CUSTOMER_TYPES as [CustomerType, ...CustomerType[]]);
const page = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(10),
};
/** Empty strings from dashboards' unset selects mean "no filter". */
const blankAsUndefined = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' || v === null || v === 'all' ? undefined : v), s.optional());

const schemas = {
  config: z.looseObject({ sender: z.string().optional() }),
  search_chat: z.looseObject({ sender: z.string().optional(), customer: phone }),
  fetch_all_chats: z.looseObject({
    status: blankAsUndefined(z.enum(['active', 'resolved'])),
    customer_type: blankAsUndefined(customerType),
    search: blankAsUndefined(z.string().max(100)),
    ...page,
  }),
  fetch_chats_by_user: z.looseObject({ chat_id: chatId, ...page }),
  new_chat: z.looseObject({ customer: phone.optional(), sender: z.string().optional(), customer_type: customerType.default('Customer') }),
  join_chat: z.looseObject({ chat_id: chatId, type: z.string().optional() }),
  join_chat_customer: z.looseObject({ chat_id: chatId, type: z.string().optional(), customer_type: customerType.optional() }),
  send_message: z.looseObject({ chat_id: chatId, sender: z.string().optional(), type: z.string().optional(), message: z.string().trim().min(1).max(4096), customer_type: customerType.optional() }),
  leave_chat: z.looseObject({ chat_id: chatId }),
  fetch_missed: z.looseObject({ chat_id: chatId, after_seq: z.coerce.number().int().min(0) }),
  update_chat_status: z.looseObject({ customer_number: phone, update_by_number: z.string().optional(), status: z.enum(['active', 'resolved']) }),
};

export type AgentEvent = keyof typeof schemas;

export interface AgentEventDeps {
  hub: WsHub;
  chats: ChatService;
  queries: ChatQueries;
  /** Who is in which chat's room (`socket_collection`). */
  presence: PresenceStore;
  pod: string;
}

/** The ten events of spec FR-3, validated with zod, answered with their data. */
export function agentEventHandler(deps: AgentEventDeps) {
  const { presence } = deps;
  deps.hub.onLeave = (conn, room) => {
    if (room !== 'dashboard') void presence.left(room, conn.id).catch(() => undefined);
  };

  const join = async (conn: Connection, chat: string) => {
    await deps.chats.customerOf(chat); // NOT_FOUND for an unknown chat
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
    switch (event) {
      case 'config':
        return {
          sender: agent,
          role: conn.identity.role,
          customer_types: CUSTOMER_TYPES,
          channels: CHANNELS.map((c) => ({ id: c.id, customer_type: c.customerType, automated: c.automated })),
          statuses: ['active', 'resolved'],
          special_filters: [...SPECIAL_FILTERS.keys()],
        };
      case 'search_chat':
        return { chat: await deps.queries.byCustomer(data.customer as string) };
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
        await deps.chats.customerOf(data.chat_id as string);
        return deps.queries.since(data.chat_id as string, data.after_seq as number);
      case 'leave_chat':
        deps.hub.leaveRoom(conn, data.chat_id as string);
        return { chat_id: data.chat_id, left: true };
      case 'update_chat_status':
        return { chat: await deps.chats.setStatus(agent, data.customer_number as string, data.status as 'active' | 'resolved') };
    }
  };
}
