import { assign, emit, enqueueActions, setup } from 'xstate';

/**
 * One customer conversation (spec FR-4, FR-5). Pure: no I/O and no imports
 * from infra or transport, so it loads in the Stately visualizer as is. Every
 * side effect leaves as an emitted event (`message.appended`,
 * `status.changed`, …) that the actor runtime (`src/actors`) carries out
 * after the new state is persisted. Time comes in on events (`at`, epoch ms).
 */

export type CustomerType = 'Partner' | 'Customer' | 'Vendor' | 'SRDP';
export type ChatStatus = 'active' | 'pending' | 'snoozed' | 'resolved';
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
  /**
   * The team inbox's fields (#18), in one object: XState's assign copies the context with Object.assign, and
   * past 16 top-level fields V8 keeps the copy in dictionary mode (~3x the cost of every transition).
   */
  inbox: InboxState;
}

/** Who has the chat, its queue and snooze times, labels, conversations and rating. */
export interface InboxState {
  /** The agent the chat is assigned to (#18), or null: in the Unassigned queue while active. */
  assignee: string | null;
  /** The team it was assigned within (null: the default pool, or never assigned). */
  team: string | null;
  assignedAt: number | null;
  /** Set while the chat is active and unassigned: the Unassigned queue's order (longest waiting first). */
  waitingSince: number | null;
  /** When the current snooze began, and the time it wakes (null: until the customer writes). */
  snoozedAt: number | null;
  snoozedUntil: number | null;
  labels: string[];
  /** Open → resolve cycles: 1 for the first, one more at each reopening. */
  conversation: number;
  /** Whether an agent answered in this conversation yet (its first response is logged once). */
  responded: boolean;
  csat: CsatRecord | null;
  /** The WhatsApp id of the customer's last message (the typing indicator marks it read). */
  lastInboundWaId: string | null;
}

/** The CSAT question of one conversation and its answer (3 good, 2 okay, 1 poor). */
export interface CsatRecord {
  conversation: number;
  status: 'asked' | 'rated' | 'expired';
  score: 1 | 2 | 3 | null;
  askedAt: number;
  ratedAt: number | null;
}

/** The #18 fields with their defaults, for chats stored before them (a stored context is completed on load). */
export const INBOX_DEFAULTS: InboxState = {
  assignee: null, team: null, assignedAt: null, waitingSince: null, snoozedAt: null, snoozedUntil: null,
  labels: [], conversation: 1, responded: false, csat: null, lastInboundWaId: null,
};

/** The #18 fields of a new chat. */
export const newInbox = (): InboxState => ({ ...INBOX_DEFAULTS, labels: [] });

/**
 * A stored context completed with the fields added since it was written: the `inbox` object (with the
 * fields a record of the first, flat team-inbox version kept at the top level moved into it).
 */
export function withInboxDefaults(context: Partial<ChatContext>): ChatContext {
  const rest: Record<string, unknown> = { ...context };
  const flat: Record<string, unknown> = {};
  for (const key of Object.keys(INBOX_DEFAULTS)) {
    if (key in rest) {
      flat[key] = rest[key];
      delete rest[key];
    }
  }
  return { ...rest, inbox: { ...newInbox(), ...flat, ...context.inbox } } as ChatContext;
}

/** The context change that sets some team-inbox fields. */
const inboxWith = (context: ChatContext, patch: Partial<InboxState>): { inbox: InboxState } => ({ inbox: { ...context.inbox, ...patch } });

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
  /** Agents set `active`, `pending` (waiting for the customer) or `resolved`; snoozing is SNOOZE. */
  | { type: 'SET_STATUS'; id: string; at: number; by: string; status: 'active' | 'pending' | 'resolved' }
  /**
   * Gives the chat to `assignee` (null: unassigns). `manual`: an agent's choice, taken in any open state, over
   * another assignee too; otherwise the round-robin assigner's, taken only by an active chat nobody has.
   * `team` absent: the chat's team stays.
   */
  | { type: 'ASSIGN'; id: string; at: number; by: string; assignee: string | null; team?: string | null; manual: boolean }
  /** Snoozes until `until` (epoch ms, a stored deadline) or, null, until the customer writes. */
  | { type: 'SNOOZE'; id: string; at: number; by: string; until: number | null }
  /** A private note: stored and shown to agents, never sent; `mentions` are the agents it names. */
  | { type: 'NOTE'; id: string; at: number; agent: string; text: string; mentions: string[] }
  | { type: 'LABEL'; id: string; at: number; by: string; label: string; op: 'add' | 'remove' }
  /** `agent` has seen the chat up to `upTo` (a message shown to it), or all of it. */
  | { type: 'READ'; id: string; at: number; agent: string; upTo?: number }
  | { type: 'DELIVERY'; id: string; at: number; waMessageId: string; status: 'sent' | 'delivered' | 'read' | 'failed'; error?: string };

export type ChatEffect =
  | { type: 'chat.opened'; at: number }
  | { type: 'chat.handedOver'; by: string; at: number }
  | { type: 'message.appended'; message: ChatMessage }
  | { type: 'status.changed'; from: ChatStatus; to: ChatStatus; by: string; at: number; eventId: string }
  /** A new conversation began (the first opening, or a reopening). */
  | { type: 'conversation.opened'; conversation: number; at: number }
  /** The first agent message of a conversation. */
  | { type: 'conversation.responded'; conversation: number; agent: string; at: number }
  | { type: 'assignment.changed'; from: string | null; to: string | null; team: string | null; by: string; at: number; conversation: number; eventId: string }
  /** The chat is active and nobody has it: the assigner should look at its queue. */
  | { type: 'assignment.wanted'; at: number }
  | { type: 'note.mentioned'; message: ChatMessage; mentions: string[] }
  | { type: 'labels.changed'; labels: string[] }
  | { type: 'csat.asked'; conversation: number; at: number }
  | { type: 'csat.rated'; conversation: number; score: 1 | 2 | 3; at: number }
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

/** Labels kept on one chat. */
export const MAX_LABELS = 20;
/** How long a resolved chat waits for the customer's rating before it stops waiting (a stored deadline). */
export const RATING_WAIT_MS = 24 * 3_600_000;
/** The CSAT question (WhatsApp reply buttons: at most 3, so a 3-point scale). */
export const CSAT_QUESTION = 'Your chat with us is resolved. How was our help?';
export const CSAT_CHOICES = [
  { score: 3, title: 'Good' },
  { score: 2, title: 'Okay' },
  { score: 1, title: 'Poor' },
] as const;
/** The reply-button id of one CSAT choice: the conversation it rates, so an old question's answer is told apart. */
export const csatReplyId = (conversation: number, score: number): string => `csat:${conversation}:${score}`;

/** Where a chat is listed, from its machine state: a rating wait is resolved, both snoozes are snoozed. */
export function listingOf(value: unknown): ChatListing {
  switch (value) {
    case 'rating':
    case 'resolved':
      return 'resolved';
    case 'snoozed':
    case 'snoozedUntilReply':
      return 'snoozed';
    case 'pending':
      return 'pending';
    case 'bot':
      return 'bot';
    default:
      return 'active';
  }
}

/** The score a customer message gives the conversation now awaiting a rating, or null when it is not such an answer. */
function ratingIn(context: ChatContext, event: ChatEvent): 1 | 2 | 3 | null {
  if (event.type !== 'CUSTOMER_MESSAGE' || !context.inbox.csat || context.inbox.csat.status === 'rated') return null;
  const id = event.body.extra?.interactiveReplyId;
  const m = typeof id === 'string' ? /^csat:(\d+):([123])$/.exec(id) : null;
  return m && Number(m[1]) === context.inbox.csat.conversation ? (Number(m[2]) as 1 | 2 | 3) : null;
}

/** Who an event gives the chat to, when it changes hands: an ASSIGN, an agent opening or reopening it (theirs), a customer reopening it (nobody's). */
function handsTo(context: ChatContext, event: ChatEvent): { to: string | null; team: string | null; by: string } {
  switch (event.type) {
    case 'ASSIGN':
      return { to: event.assignee, team: event.team === undefined ? context.inbox.team : event.team, by: event.by };
    case 'OPEN':
    case 'SET_STATUS':
      return { to: event.by, team: context.inbox.team, by: event.by };
    default:
      return { to: null, team: context.inbox.team, by: 'system' };
  }
}

/** Status of a state for `status.changed` effects. */
const statusNamed = (state: 'active' | 'pending' | 'snoozed' | 'resolved'): ChatStatus => state;

export const chatMachine = setup({
  types: {
    context: {} as ChatContext,
    events: {} as ChatEvent,
    input: {} as ChatInput,
    emitted: {} as ChatEffect,
  },
  delays: {
    /** From the snooze to its wake-up time (the host stores it as a deadline at `snoozedUntil`). */
    SNOOZE_WAKE: ({ context }) => Math.max(0, (context.inbox.snoozedUntil ?? 0) - (context.inbox.snoozedAt ?? 0)),
    RATING_WAIT: RATING_WAIT_MS,
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
        ...(event.body.waMessageId ? inboxWith(context, { lastInboundWaId: event.body.waMessageId }) : {}),
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
    /** The first agent message of a conversation is its first response (reports); later ones change nothing here. */
    noteResponse: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'AGENT_MESSAGE' || context.inbox.responded) return;
      enqueue.assign(inboxWith(context, { responded: true }));
      enqueue.emit({ type: 'conversation.responded', conversation: context.inbox.conversation, agent: event.agent, at: event.at });
    }),
    recordBotMessage: assign(({ context, event }) => {
      if (event.type !== 'BOT_MESSAGE') return {};
      return { lastSeq: context.lastSeq + 1, botMessages: (context.botMessages ?? 0) + 1, lastMessage: event.body.text, lastMessageAt: event.at, lastMsgBy: event.bot };
    }),
    requestReply: emit(({ context, event }) => {
      if (event.type !== 'AGENT_MESSAGE') throw new Error('requestReply needs AGENT_MESSAGE');
      return { type: 'reply.requested' as const, message: recorded(context, event.agent, 'Agent', event) };
    }),
    /** A private note: a message like any other for agents (seq, room push), never a reply; its author has read it. */
    recordNote: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'NOTE') return;
      const seq = context.lastSeq + 1;
      enqueue.assign({ lastSeq: seq, reads: withReader(context.reads, event.agent, seq, context.botMessages ?? 0) });
      const message: ChatMessage = { seq, id: event.id, sender: event.agent, type: 'Agent', channel: context.channel, at: event.at, body: { kind: 'note', text: event.text, extra: { private: true, mentions: event.mentions } } };
      enqueue.emit({ type: 'message.appended', message });
      if (event.mentions.length) enqueue.emit({ type: 'note.mentioned', message, mentions: event.mentions });
    }),
    markRead: assign(({ context, event }) => (event.type === 'READ' ? { reads: withReader(context.reads, event.agent, readUpTo(context, event), context.botMessages ?? 0) } : {})),
    emitOpened: emit(({ event }) => ({ type: 'chat.opened' as const, at: event.at })),
    emitConversation: emit(({ context, event }) => ({ type: 'conversation.opened' as const, conversation: context.inbox.conversation, at: event.at })),
    /** A reopening starts the next conversation: a new first response, a new rating. */
    nextConversation: assign(({ context }) => inboxWith(context, { conversation: context.inbox.conversation + 1, responded: false })),
    /** An agent opening a chat the bot had: the channel the agent chose (the type is the chat's for life: one chat per number per type). */
    adoptOpening: assign(({ context, event }) => ({ channel: event.type === 'OPEN' ? event.channel : context.channel })),
    emitHandedOver: emit(({ event }) => ({ type: 'chat.handedOver' as const, by: event.type === 'HANDOVER' ? event.by : '', at: event.at })),
    auditStatus: assign(({ context, event }) => {
      const by = event.type === 'SET_STATUS' || event.type === 'HANDOVER' || event.type === 'SNOOZE' ? event.by : event.type === 'CUSTOMER_MESSAGE' ? context.customer : null;
      return by === null ? {} : { statusUpdatedBy: by, statusUpdatedAt: event.at };
    }),
    /** The deadline's own time is the wake-up's audit time. */
    auditWake: assign(({ event }) => ({ statusUpdatedBy: 'snooze', statusUpdatedAt: event.at })),
    emitStatus: emit(({ context, event }, p: { from: ChatStatus; to: ChatStatus }) => ({
      type: 'status.changed' as const, from: p.from, to: p.to, by: context.statusUpdatedBy ?? '', at: context.statusUpdatedAt ?? event.at, eventId: event.id ?? `at:${event.at}`,
    })),
    /** Changes hands (emitting `assignment.changed`) when the event gives the chat to someone else; a chat that changes hands stops waiting. */
    handOver: enqueueActions(({ context, event, enqueue }) => {
      const h = handsTo(context, event);
      if (h.to === context.inbox.assignee && h.team === context.inbox.team) return;
      enqueue.emit({ type: 'assignment.changed', from: context.inbox.assignee, to: h.to, team: h.team, by: h.by, at: event.at, conversation: context.inbox.conversation, eventId: event.id ?? `at:${event.at}` });
      enqueue.assign(inboxWith(context, { assignee: h.to, team: h.team, assignedAt: h.to === null ? null : event.at, waitingSince: null }));
    }),
    /** Entering `active` with nobody on it: the chat joins the Unassigned queue (oldest first) and the assigner is told. */
    queueIfUnassigned: enqueueActions(({ context, event, enqueue }) => {
      if (context.inbox.assignee !== null) return;
      if (context.inbox.waitingSince === null) enqueue.assign(inboxWith(context, { waitingSince: event.at }));
      enqueue.emit({ type: 'assignment.wanted', at: event.at });
    }),
    /** Left `active`: no longer in the Unassigned queue. */
    leaveQueue: assign(({ context }) => (context.inbox.waitingSince === null ? {} : inboxWith(context, { waitingSince: null }))),
    startSnooze: assign(({ context, event }) => (event.type === 'SNOOZE' ? inboxWith(context, { snoozedAt: event.at, snoozedUntil: event.until }) : {})),
    endSnooze: assign(({ context }) => inboxWith(context, { snoozedAt: null, snoozedUntil: null })),
    changeLabels: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LABEL') return;
      const labels = event.op === 'add' ? [...context.inbox.labels, event.label] : context.inbox.labels.filter((l) => l !== event.label);
      enqueue.assign(inboxWith(context, { labels }));
      enqueue.emit({ type: 'labels.changed', labels });
    }),
    /** The CSAT question: recorded as a bot message (seq) and sent as reply buttons through the same send path as agent replies. */
    askRating: enqueueActions(({ context, event, enqueue }) => {
      const seq = context.lastSeq + 1;
      const conversation = context.inbox.conversation;
      const buttons = CSAT_CHOICES.map((c) => ({ type: 'reply', reply: { id: csatReplyId(conversation, c.score), title: c.title } }));
      const message: ChatMessage = {
        seq, id: `${event.id}:csat`, sender: 'csat', type: 'Agent', channel: context.channel, at: event.at,
        body: { kind: 'interactive', text: CSAT_QUESTION, extra: { csat: conversation, cloud: { type: 'interactive', interactive: { type: 'button', body: { text: CSAT_QUESTION }, action: { buttons } } } } },
      };
      enqueue.assign({ lastSeq: seq, botMessages: (context.botMessages ?? 0) + 1, ...inboxWith(context, { csat: { conversation, status: 'asked', score: null, askedAt: event.at, ratedAt: null } }) });
      enqueue.emit({ type: 'message.appended', message });
      enqueue.emit({ type: 'reply.requested', message });
      enqueue.emit({ type: 'csat.asked', conversation, at: event.at });
    }),
    recordRating: enqueueActions(({ context, event, enqueue }) => {
      const score = ratingIn(context, event);
      const csat = context.inbox.csat;
      if (score === null || !csat) return;
      enqueue.assign(inboxWith(context, { csat: { ...csat, status: 'rated', score, ratedAt: event.at } }));
      enqueue.emit({ type: 'csat.rated', conversation: csat.conversation, score, at: event.at });
    }),
    expireRating: assign(({ context }) => (context.inbox.csat ? inboxWith(context, { csat: { ...context.inbox.csat, status: 'expired' } }) : {})),
    emitDelivery: emit(({ event }) => {
      if (event.type !== 'DELIVERY') throw new Error('emitDelivery needs DELIVERY');
      return { type: 'delivery.recorded' as const, waMessageId: event.waMessageId, status: event.status, at: event.at, ...(event.error ? { error: event.error } : {}) };
    }),
  },
  guards: {
    resolving: ({ event }) => event.type === 'SET_STATUS' && event.status === 'resolved',
    /** Resolving while the customer can still be sent a free-form message: the CSAT question goes out. */
    resolvingInWindow: ({ context, event }) => event.type === 'SET_STATUS' && event.status === 'resolved' && insideServiceWindow(context.lastCustomerMessageAt, event.at),
    reopening: ({ event }) => event.type === 'SET_STATUS' && event.status === 'active',
    toPending: ({ event }) => event.type === 'SET_STATUS' && event.status === 'pending',
    /** Only a read that moves the agent's cursor is taken: one that moves nothing is not stored again. */
    advancesReader: ({ context, event }) => event.type === 'READ' && readUpTo(context, event) > (context.reads.find((r) => r.agent === event.agent)?.seq ?? 0),
    toBot: ({ event }) => event.type === 'CUSTOMER_MESSAGE' && event.automated === true,
    /** Templates any time; free-form text only inside the 24-hour window. Outside it the event is not taken: nothing is stored or sent. */
    mayReply: ({ context, event }) => event.type === 'AGENT_MESSAGE' && (event.body.kind === 'template' || insideServiceWindow(context.lastCustomerMessageAt, event.at)),
    /**
     * Assignment is decided once: the round-robin assigner's ASSIGN is taken only by a chat nobody has
     * (a second decision, from another pod or a retry, finds it assigned and changes nothing);
     * an agent's manual (re/un)assignment is taken whoever has it.
     */
    mayAssign: ({ context, event }) => event.type === 'ASSIGN' && (event.manual ? event.assignee !== context.inbox.assignee : context.inbox.assignee === null && event.assignee !== null),
    /** Outside `active` (pending, snoozed) only an agent assigns: a round-robin decision made while the chat was active comes too late. */
    mayAssignByHand: ({ context, event }) => event.type === 'ASSIGN' && event.manual && event.assignee !== context.inbox.assignee,
    timedSnooze: ({ event }) => event.type === 'SNOOZE' && event.until !== null && event.until > event.at,
    untimedSnooze: ({ event }) => event.type === 'SNOOZE' && event.until === null,
    newLabel: ({ context, event }) => event.type === 'LABEL' && event.op === 'add' && !context.inbox.labels.includes(event.label) && context.inbox.labels.length < MAX_LABELS,
    knownLabel: ({ context, event }) => event.type === 'LABEL' && event.op === 'remove' && context.inbox.labels.includes(event.label),
    isRating: ({ context, event }) => ratingIn(context, event) !== null,
  },
}).createMachine({
  id: 'chat',
  description: 'A customer conversation: opened by the first message (or an agent), assigned to one agent, waiting for the customer (pending), snoozed, resolved (asking for a rating inside the 24-hour window), reopened by the customer or an agent.',
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
    inbox: newInbox(),
  }),
  on: {
    // Labels are taken in every state but `new` (guarded there: nothing to label yet).
    LABEL: [
      { guard: 'newLabel', actions: 'changeLabels' },
      { guard: 'knownLabel', actions: 'changeLabels' },
    ],
  },
  states: {
    new: {
      description: 'No conversation yet: nothing is stored until something opens it.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', target: 'bot', actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['emitOpened', 'emitConversation', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        // An agent who opens a chat has it.
        OPEN: { target: 'active', actions: ['emitOpened', 'emitConversation', 'handOver'] },
        HANDOVER: { target: 'active', actions: ['emitOpened', 'emitConversation', 'emitHandedOver'] },
        LABEL: {},
      },
    },
    bot: {
      description: 'Only the discount bot has talked with this number: not in the agents’ lists or counts (the Discount_Bot filter shows it). A handover, an agent, or a message to a human channel makes it active.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['emitOpened', 'emitConversation', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        HANDOVER: { target: 'active', actions: ['emitOpened', 'emitConversation', 'emitHandedOver'] },
        OPEN: { target: 'active', actions: ['adoptOpening', 'emitOpened', 'emitConversation', 'emitHandedOver', 'handOver'] },
        AGENT_MESSAGE: { guard: 'mayReply', target: 'active', actions: ['emitOpened', 'emitConversation', 'recordAgentMessage', 'emitAgentMessage', 'requestReply', 'noteResponse'] },
        SET_STATUS: { guard: 'reopening', target: 'active', actions: ['auditStatus', 'emitOpened', 'emitConversation', 'emitHandedOver', 'handOver'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    active: {
      description: 'Shown in the agents’ Active tab; messages flow both ways. Nobody assigned: in the Unassigned queue until the round-robin assigner (ASSIGN) or an agent takes it.',
      entry: 'queueIfUnassigned',
      exit: 'leaveQueue',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { actions: ['recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply', 'noteResponse'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        // Unassigned by an agent: back in the queue (re-entered, so the assigner is told).
        ASSIGN: { guard: 'mayAssign', target: 'active', reenter: true, actions: 'handOver' },
        SET_STATUS: [
          { guard: 'resolvingInWindow', target: 'rating', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('active'), to: statusNamed('resolved') } }] },
          { guard: 'resolving', target: 'resolved', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('active'), to: statusNamed('resolved') } }] },
          { guard: 'toPending', target: 'pending', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('active'), to: statusNamed('pending') } }] },
        ],
        SNOOZE: [
          { guard: 'timedSnooze', target: 'snoozed', actions: ['auditStatus', 'startSnooze', { type: 'emitStatus', params: { from: statusNamed('active'), to: statusNamed('snoozed') } }] },
          { guard: 'untimedSnooze', target: 'snoozedUntilReply', actions: ['auditStatus', 'startSnooze', { type: 'emitStatus', params: { from: statusNamed('active'), to: statusNamed('snoozed') } }] },
        ],
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    pending: {
      description: 'Waiting for the customer (an agent said so): in the Pending tab until the customer writes or an agent changes it.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('active') } }, 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply', 'noteResponse'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        ASSIGN: { guard: 'mayAssignByHand', actions: 'handOver' },
        SET_STATUS: [
          { guard: 'resolvingInWindow', target: 'rating', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('resolved') } }] },
          { guard: 'resolving', target: 'resolved', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('resolved') } }] },
          { guard: 'reopening', target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('active') } }] },
        ],
        SNOOZE: [
          { guard: 'timedSnooze', target: 'snoozed', actions: ['auditStatus', 'startSnooze', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('snoozed') } }] },
          { guard: 'untimedSnooze', target: 'snoozedUntilReply', actions: ['auditStatus', 'startSnooze', { type: 'emitStatus', params: { from: statusNamed('pending'), to: statusNamed('snoozed') } }] },
        ],
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    snoozed: {
      description: 'Snoozed until `snoozedUntil` (a stored deadline: it survives restarts and failover) or the customer’s next message, whichever comes first.',
      exit: 'endSnooze',
      after: {
        SNOOZE_WAKE: { target: 'active', actions: ['auditWake', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('active') } }] },
      },
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('active') } }, 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply', 'noteResponse'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        ASSIGN: { guard: 'mayAssignByHand', actions: 'handOver' },
        SET_STATUS: [
          { guard: 'resolvingInWindow', target: 'rating', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('resolved') } }] },
          { guard: 'resolving', target: 'resolved', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('resolved') } }] },
          { guard: 'reopening', target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('active') } }] },
          { guard: 'toPending', target: 'pending', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('pending') } }] },
        ],
        // Snoozed again: the new time replaces the old deadline.
        SNOOZE: [
          { guard: 'timedSnooze', target: 'snoozed', reenter: true, actions: ['auditStatus', 'startSnooze'] },
          { guard: 'untimedSnooze', target: 'snoozedUntilReply', actions: ['auditStatus', 'startSnooze'] },
        ],
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    snoozedUntilReply: {
      description: 'Snoozed with no time: until the customer’s next message (or an agent).',
      exit: 'endSnooze',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('active') } }, 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply', 'noteResponse'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        ASSIGN: { guard: 'mayAssignByHand', actions: 'handOver' },
        SET_STATUS: [
          { guard: 'resolvingInWindow', target: 'rating', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('resolved') } }] },
          { guard: 'resolving', target: 'resolved', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('resolved') } }] },
          { guard: 'reopening', target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('active') } }] },
          { guard: 'toPending', target: 'pending', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('snoozed'), to: statusNamed('pending') } }] },
        ],
        SNOOZE: { guard: 'timedSnooze', target: 'snoozed', actions: ['auditStatus', 'startSnooze'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    rating: {
      description: 'Resolved inside the 24-hour window: the CSAT question was sent as reply buttons and the chat awaits the rating (listed as resolved) until RATING_WAIT. Any other customer message reopens it.',
      entry: 'askRating',
      after: { RATING_WAIT: { target: 'resolved', actions: 'expireRating' } },
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          { guard: 'isRating', target: 'resolved', actions: ['recordCustomerMessage', 'emitCustomerMessage', 'recordRating'] },
          { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        HANDOVER: { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver', 'emitHandedOver'] },
        SET_STATUS: { guard: 'reopening', target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
    resolved: {
      description: 'Shown in the Resolved tab. A customer message (not one to the bot, nor a late rating), a handover or an agent reopens it as a new conversation.',
      on: {
        CUSTOMER_MESSAGE: [
          { guard: 'toBot', actions: ['recordAsideMessage', 'emitCustomerMessage'] },
          // A rating tapped after the wait ended still counts, and does not reopen the chat.
          { guard: 'isRating', actions: ['recordAsideMessage', 'emitCustomerMessage', 'recordRating'] },
          { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver', 'recordCustomerMessage', 'emitCustomerMessage'] },
        ],
        AGENT_MESSAGE: { guard: 'mayReply', actions: ['recordAgentMessage', 'emitAgentMessage', 'requestReply'] },
        BOT_MESSAGE: { actions: ['recordBotMessage', 'emitAgentMessage'] },
        NOTE: { actions: 'recordNote' },
        HANDOVER: { target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver', 'emitHandedOver'] },
        SET_STATUS: { guard: 'reopening', target: 'active', actions: ['auditStatus', { type: 'emitStatus', params: { from: statusNamed('resolved'), to: statusNamed('active') } }, 'nextConversation', 'emitConversation', 'handOver'] },
        READ: { guard: 'advancesReader', actions: 'markRead' },
        DELIVERY: { actions: 'emitDelivery' },
      },
    },
  },
});
