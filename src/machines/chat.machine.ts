import { assign, emit, setup } from 'xstate';

/**
 * One customer conversation (spec FR-4, FR-5). Pure: no I/O and no imports
 * from infra or transport, so it loads in the Stately visualizer as is. Every
 * side effect leaves as an emitted event (`message.appended`,
 * `status.changed`, …) that the actor runtime (`src/actors`) carries out
 * after the new state is persisted. Time comes in on events (`at`, epoch ms).
 */

export type CustomerType = 'Partner' | 'Customer' | 'Vendor' | 'SRDP';
export type ChatStatus = 'active' | 'resolved';
/** Where a chat is listed: an agents' status, or `bot` (only the discount bot has talked with this number). */
export type ChatListing = ChatStatus | 'bot';

export interface MessageBody {
  /** WhatsApp message kind (`text`, `image`, `button`, …); agent messages are `text` or `template`. */
  kind: string;
  text: string;
  waMessageId?: string;
  media?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export interface ChatMessage {
  seq: number;
  /** Idempotency id: the WhatsApp message id, or the agent frame's id. */
  id: string;
  sender: string;
  type: 'Customer' | 'Agent';
  channel: string;
  at: number;
  body: MessageBody;
}

export interface ChatContext {
  chatId: string;
  customer: string;
  customerName: string | null;
  customerType: CustomerType;
  /** The webhook channel the customer last wrote on. */
  channel: string;
  createdAt: number;
  lastSeq: number;
  lastMessage: string | null;
  lastMessageAt: number | null;
  lastMsgBy: string | null;
  /** Start of WhatsApp's 24-hour customer-service window. */
  lastCustomerMessageAt: number | null;
  statusUpdatedBy: string | null;
  statusUpdatedAt: number | null;
  /** Per-agent read cursors: the highest seq each agent has seen. */
  reads: ReadCursor[];
  /** How many of the messages are the bot's replies (never unseen for agents). Absent on chats stored before it. */
  botMessages?: number;
}

export interface ReadCursor {
  agent: string;
  seq: number;
  /** `botMessages` when the cursor was moved, so `unseen` can leave the bot's replies out. */
  bot?: number;
}

export interface ChatInput {
  chatId: string;
  customer: string;
  customerType: CustomerType;
  channel: string;
  at: number;
}

export type ChatEvent =
  /** `automated`: written to a number no agent answers (the discount bot's): it neither lists the chat for agents nor changes its channel or 24-hour window (the type is the key's: one chat per number per type). */
  | { type: 'CUSTOMER_MESSAGE'; id: string; at: number; channel: string; customerType: CustomerType; name?: string; automated?: boolean; body: MessageBody }
  | { type: 'AGENT_MESSAGE'; id: string; at: number; agent: string; body: MessageBody }
  /** An automated reply already sent by another flow (the discount bot): recorded, not sent again. */
  | { type: 'BOT_MESSAGE'; id: string; at: number; bot: string; channel?: string; body: MessageBody }
  /** The bot hands the customer to people (its care path, or the customer asked for one): the chat joins the agents' Active list. */
  | { type: 'HANDOVER'; id: string; at: number; by: string; channel: string; customerType: CustomerType }
  | { type: 'OPEN'; id: string; at: number; by: string; channel: string; customerType: CustomerType }
  | { type: 'SET_STATUS'; id: string; at: number; by: string; status: ChatStatus }
  /** `agent` has seen the chat up to `upTo` (a message shown to it), or all of it. */
  | { type: 'READ'; id: string; at: number; agent: string; upTo?: number }
  | { type: 'DELIVERY'; id: string; at: number; waMessageId: string; status: 'sent' | 'delivered' | 'read' | 'failed'; error?: string };

export type ChatEffect =
  | { type: 'chat.opened'; at: number }
  | { type: 'chat.handedOver'; by: string; at: number }
  | { type: 'message.appended'; message: ChatMessage }
  | { type: 'status.changed'; from: ChatStatus; to: ChatStatus; by: string; at: number; eventId: string }
  | { type: 'reply.requested'; message: ChatMessage }
  | { type: 'delivery.recorded'; waMessageId: string; status: string; at: number; error?: string };

/** WhatsApp's customer-service window: free-form messages only this long after the customer's last message. */
export const SERVICE_WINDOW_MS = 24 * 3_600_000;

/**
 * WhatsApp's 24-hour rule, the one place it is written (kept in this file so
 * the machine loads in the Stately visualizer on its own): a free-form reply
 * at `at` is allowed while the customer's last message is under 24 hours old.
 */
export function insideServiceWindow(lastCustomerMessageAt: number | null, at: number): boolean {
  return lastCustomerMessageAt !== null && at - lastCustomerMessageAt < SERVICE_WINDOW_MS;
}

/** Read cursors kept per chat; the oldest readers are dropped past this. */
export const MAX_READERS = 200;

/** The message just recorded: called after the assign that advanced `lastSeq`. */
const recorded = (context: ChatContext, sender: string, type: ChatMessage['type'], e: { id: string; at: number; body: MessageBody }): ChatMessage => ({
  seq: context.lastSeq,
  id: e.id,
  sender,
  type,
  channel: context.channel,
  at: e.at,
  body: e.body,
});

/** How far a READ reads: to its `upTo`, never past the last message. */
function readUpTo(context: ChatContext, e: { upTo?: number }): number {
  return Math.min(e.upTo ?? context.lastSeq, context.lastSeq);
}

function withReader(reads: ReadCursor[], agent: string, seq: number, bot: number): ReadCursor[] {
  const current = reads.find((r) => r.agent === agent);
  if (current && current.seq >= seq) return reads;
  const next = [...reads.filter((r) => r.agent !== agent), bot ? { agent, seq, bot } : { agent, seq }];
  // Past the bound, forget the reader who has read least.
  return next.length > MAX_READERS ? next.sort((a, b) => b.seq - a.seq).slice(0, MAX_READERS) : next;
}

export const chatMachine = setup({
  types: {
    context: {} as ChatContext,
    events: {} as ChatEvent,
    input: {} as ChatInput,
    emitted: {} as ChatEffect,
  },
  actions: {
    recordCustomerMessage: assign(({ context, event }) => {
      if (event.type !== 'CUSTOMER_MESSAGE') return {};
      return {
        lastSeq: context.lastSeq + 1,
        channel: event.channel,
        customerName: event.name ?? context.customerName,
        lastMessage: event.body.text,
        lastMessageAt: event.at,
        lastMsgBy: context.customer,
        lastCustomerMessageAt: event.at,
      };
    }),
    /** A message to the bot's number on a chat agents already have: recorded, but its type, channel and 24-hour window stay. */
    recordAsideMessage: assign(({ context, event }) => {
      if (event.type !== 'CUSTOMER_MESSAGE') return {};
      return { lastSeq: context.lastSeq + 1, customerName: event.name ?? context.customerName, lastMessage: event.body.text, lastMessageAt: event.at, lastMsgBy: context.customer };
    }),
    emitCustomerMessage: emit(({ context, event }) => {
      if (event.type !== 'CUSTOMER_MESSAGE') throw new Error('emitCustomerMessage needs CUSTOMER_MESSAGE');
      return { type: 'message.appended' as const, message: { ...recorded(context, context.customer, 'Customer', event), channel: event.channel } };
    }),
    recordAgentMessage: assign(({ context, event }) => {
      if (event.type !== 'AGENT_MESSAGE') return {};
      const seq = context.lastSeq + 1;
      return {
        lastSeq: seq,
        lastMessage: event.body.text,
        lastMessageAt: event.at,
        lastMsgBy: event.agent,
        reads: withReader(context.reads, event.agent, seq, context.botMessages ?? 0),
      };
    }),
    emitAgentMessage: emit(({ context, event }) => {
      if (event.type !== 'AGENT_MESSAGE' && event.type !== 'BOT_MESSAGE') throw new Error('emitAgentMessage needs AGENT_MESSAGE or BOT_MESSAGE');
      const message = recorded(context, event.type === 'AGENT_MESSAGE' ? event.agent : event.bot, 'Agent', event);
      return { type: 'message.appended' as const, message: event.type === 'BOT_MESSAGE' && event.channel ? { ...message, channel: event.channel } : message };
    }),
    recordBotMessage: assign(({ context, event }) => {
      if (event.type !== 'BOT_MESSAGE') return {};
      return { lastSeq: context.lastSeq + 1, botMessages: (context.botMessages ?? 0) + 1, lastMessage: event.body.text, lastMessageAt: event.at, lastMsgBy: event.bot };
    }),
    requestReply: emit(({ context, event }) => {
      if (event.type !== 'AGENT_MESSAGE') throw new Error('requestReply needs AGENT_MESSAGE');
      return { type: 'reply.requested' as const, message: recorded(context, event.agent, 'Agent', event) };
    }),
    markRead: assign(({ context, event }) => (event.type === 'READ' ? { reads: withReader(context.reads, event.agent, readUpTo(context, event), context.botMessages ?? 0) } : {})),
    emitOpened: emit(({ event }) => ({ type: 'chat.opened' as const, at: event.at })),
    /** An agent opening a chat the bot had: the channel the agent chose (the type is the chat's for life: one chat per number per type). */
    adoptOpening: assign(({ context, event }) => ({ channel: event.type === 'OPEN' ? event.channel : context.channel })),
    emitHandedOver: emit(({ event }) => ({ type: 'chat.handedOver' as const, by: event.type === 'HANDOVER' ? event.by : '', at: event.at })),
    auditStatus: assign(({ context, event }) => {
      const by = event.type === 'SET_STATUS' || event.type === 'HANDOVER' ? event.by : event.type === 'CUSTOMER_MESSAGE' ? context.customer : null;
      return by === null ? {} : { statusUpdatedBy: by, statusUpdatedAt: event.at };
    }),
    emitResolved: emit(({ context, event }) => ({ type: 'status.changed' as const, from: 'active' as const, to: 'resolved' as const, by: context.statusUpdatedBy ?? '', at: context.statusUpdatedAt ?? 0, eventId: event.id })),
    emitReopened: emit(({ context, event }) => ({ type: 'status.changed' as const, from: 'resolved' as const, to: 'active' as const, by: context.statusUpdatedBy ?? '', at: context.statusUpdatedAt ?? 0, eventId: event.id })),
    emitDelivery: emit(({ event }) => {
      if (event.type !== 'DELIVERY') throw new Error('emitDelivery needs DELIVERY');
      return { type: 'delivery.recorded' as const, waMessageId: event.waMessageId, status: event.status, at: event.at, ...(event.error ? { error: event.error } : {}) };
    }),
  },
  guards: {
    resolving: ({ event }) => event.type === 'SET_STATUS' && event.status === 'resolved',
    reopening: ({ event }) => event.type === 'SET_STATUS' && event.status === 'active',
    /** Only a read that moves the agent's cursor is taken: one that moves nothing is not stored again. */
    advancesReader: ({ context, event }) => event.type === 'READ' && readUpTo(context, event) > (context.reads.find((r) => r.agent === event.agent)?.seq ?? 0),
    toBot: ({ event }) => event.type === 'CUSTOMER_MESSAGE' && event.automated === true,
    /** Templates any time; free-form text only inside the 24-hour window. Outside it the event is not taken: nothing is stored or sent. */
    mayReply: ({ context, event }) => event.type === 'AGENT_MESSAGE' && (event.body.kind === 'template' || insideServiceWindow(context.lastCustomerMessageAt, event.at)),
  },
}).createMachine({
  id: 'chat',
  description: 'A customer conversation: opened by the first message (or an agent), resolved by an agent, reopened by the customer or an agent.',
  initial: 'new',
  // `input` is absent when XState builds the throwaway actor behind every pure `transition()` call:
  // answering without throwing there saves the cost of an Error per event.
  context: ({ input }) => ({
    chatId: input?.chatId ?? '',
    customer: input?.customer ?? '',
    customerName: null,
    customerType: input?.customerType ?? 'Customer',
    channel: input?.channel ?? '',
    createdAt: input?.at ?? 0,
    lastSeq: 0,
    lastMessage: null,
    lastMessageAt: null,
    lastMsgBy: null,
    lastCustomerMessageAt: null,
    statusUpdatedBy: null,
    statusUpdatedAt: null,
    reads: [],
    botMessages: 0,
  }),
  states: {
    new: {
      description: 'No conversation yet: nothing is stored until something opens it.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', target: 'bot', actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['emitOpened', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        OPEN: { target: 'active', actions: ['emitOpened'] },
        HANDOVER: { target: 'active', actions: ['emitOpened', 'emitHandedOver'] },
      },
    },
    bot: {
      description: 'Only the discount bot has talked with this number: not in the agents’ lists or counts (the Discount_Bot filter shows it). A handover, an agent, or a message to a human channel makes it active.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['emitOpened', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        HANDOVER: { target: 'active', actions: ['emitOpened', 'emitHandedOver'] },
        OPEN: { target: 'active', actions: ['adoptOpening', 'emitOpened', 'emitHandedOver'] },
        AGENT_MESSAGE: { guard: 'mayReply', target: 'active', actions: ['emitOpened', 'recordAgentMessage', 'emitAgentMessage', 'requestReply'] },
        SET_STATUS: { guard: 'reopening', target: 'active', actions: ['auditStatus', 'emitOpened', 'emitHandedOver'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    active: {
      description: 'Shown in the agents’ Active tab; messages flow both ways.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        SET_STATUS: { guard: 'resolving', target: 'resolved', actions: ['auditStatus', 'emitResolved'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    resolved: {
      description: 'Shown in the Resolved tab. A customer message (not one to the bot), a handover or an agent reopens it.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['auditStatus', 'emitReopened', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        HANDOVER: { target: 'active', actions: ['auditStatus', 'emitReopened', 'emitHandedOver'] },
        SET_STATUS: { guard: 'reopening', target: 'active', actions: ['auditStatus', 'emitReopened'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
  },
});
