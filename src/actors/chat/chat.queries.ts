import type { CustomerType } from '../../domain/channels.ts';
import { AppError } from '../../infra/errors.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import type { ReadCursor } from '../../machines/chat.machine.ts';
import { ChatStore } from './chat-store.ts';
import { chatOut, messageOut, type Doc } from './chat-views.ts';

/** The `search` value that lists the chats only the discount bot has had (status `bot`), which no other list shows. */
export const DISCOUNT_BOT_FILTER = 'Discount_Bot';
/** What an agent's list holds unless it asks for the bot's chats. */
const AGENT_STATUSES = { $in: ['active', 'pending', 'snoozed', 'resolved'] };

/** The team inbox's views (#18): the agent's own chats, the Unassigned queue, or every chat. */
export type InboxView = 'mine' | 'unassigned' | 'all';

/** FR-4's special filters: values of `search` that filter on the customer's `users` profile instead. */
export const SPECIAL_FILTERS: ReadonlyMap<string, Doc> = new Map<string, Doc>([
  ['Active_Approved', { 'user.documents_status': 'Approved', 'user.dco_status': 'Active' }],
  ['Pending', { 'user.documents_status': 'Pending' }],
  ['InJourney', { 'user.in_journey_status': true }],
  ['Suspend', { 'user.dco_status': 'Suspend' }],
]);

export interface Page {
  page: number;
  page_size: number;
}

export interface ChatListFilter extends Page {
  status?: 'active' | 'pending' | 'snoozed' | 'resolved';
  customer_type?: CustomerType;
  search?: string;
  view?: InboxView;
  label?: string;
}

/** The match of a view for `agent` (nothing for `all`). */
function viewMatch(view: InboxView | undefined, agent: string): Doc {
  return view === 'mine' ? { assignee: agent } : view === 'unassigned' ? { assignee: null } : {};
}

/**
 * The agent-facing reads: filtering, sorting and paging happen in MongoDB (or
 * the memory store) on indexed fields — a sorted, limited find and a count;
 * only the profile filters join `users` in a pipeline (`chat-store.ts`). Each
 * agent's `unseen_count` and each message's `seen_by` come from the read
 * cursors stored on the chat.
 */
export class ChatQueries {
  private readonly chats: ChatStore;

  constructor(store: DocumentStore) {
    this.chats = new ChatStore(store);
  }

  /** `fetch_all_chats`: newest activity first, with `unseen_count` for `agent`. */
  async listChats(agent: string, f: ChatListFilter): Promise<{ chats: Doc[]; total: number; page: number; page_size: number }> {
    const match: Doc = {};
    const search = f.search?.trim();
    const bot = search === DISCOUNT_BOT_FILTER;
    match.status = bot ? 'bot' : (f.status ?? AGENT_STATUSES);
    if (f.customer_type) match.customer_type = f.customer_type;
    Object.assign(match, viewMatch(f.view, agent));
    if (f.label) match.labels = f.label;
    const special = search && !bot ? SPECIAL_FILTERS.get(search) : undefined;
    if (search && !special && !bot) {
      const pattern = { $regex: escapeRegex(search), $options: 'i' };
      match.$or = [{ customer: pattern }, { customer_name: pattern }];
    }
    const skip = (f.page - 1) * f.page_size;
    // The profile filters need the `users` join: one pipeline. Otherwise a sorted, limited find (the indexes serve it) and a count.
    const { chats, total } = special ? await this.chats.chatPageByProfile(match, special, skip, f.page_size) : await this.chats.chatPage(match, skip, f.page_size);
    return { chats: chats.map((c) => chatOut(withUnseen(c, agent))), total, page: f.page, page_size: f.page_size };
  }

  /** `inbox_counts`: how many chats in `status` are the agent's, unassigned, and in all (with the list's other filters). */
  async inboxCounts(agent: string, f: { status: 'active' | 'pending' | 'snoozed' | 'resolved'; customer_type?: CustomerType; label?: string }): Promise<{ status: string; mine: number; unassigned: number; all: number }> {
    const base: Doc = { status: f.status, ...(f.customer_type ? { customer_type: f.customer_type } : {}), ...(f.label ? { labels: f.label } : {}) };
    const [mine, unassigned, all] = await Promise.all((['mine', 'unassigned', 'all'] as const).map((v) => this.chats.countWhere({ ...base, ...viewMatch(v, agent) })));
    return { status: f.status, mine: mine!, unassigned: unassigned!, all: all! };
  }

  /** `fetch_chats_by_user`: the chat and one page of its messages, newest first, each with `seen_by`. */
  async history(chatId: string, p: Page): Promise<{ chat: Doc; messages: Doc[]; total: number; page: number; page_size: number }> {
    const chat = await this.chats.chatById(chatId);
    if (!chat) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    const cursors = (chat.read_cursors ?? []) as ReadCursor[];
    const { messages: page, total } = await this.chats.messagePage(chatId, (p.page - 1) * p.page_size, p.page_size);
    for (const m of page) m.seen_by = cursors.filter((r) => r.seq >= Number(m.seq)).map((r) => r.agent);
    return { chat: chatOut(chat), messages: page.map(messageOut), total, page: p.page, page_size: p.page_size };
  }

  /** `fetch_missed`: what a reconnecting dashboard missed — messages after `afterSeq`, oldest first (at most 100). */
  async since(chatId: string, afterSeq: number): Promise<{ chat_id: string; last_seq: number; messages: Doc[] }> {
    const chat = await this.chats.chatById(chatId, { last_seq: 1 });
    if (!chat) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    const messages = await this.chats.messagesAfter(chatId, afterSeq, 100);
    return { chat_id: chatId, last_seq: Number(chat.last_seq ?? 0), messages: messages.map(messageOut) };
  }

  /** `search_chat`: the chat of one customer number (of `type`; without it, the one with the latest activity), or null. */
  async byCustomer(customer: string, type?: CustomerType): Promise<Doc | null> {
    const chat = await this.chats.chatOf(customer, type);
    return chat ? chatOut(chat) : null;
  }
}

/**
 * The chat with `unseen_count`: messages after `agent`'s read cursor (its own replies move its cursor, so they
 * never count), less the bot's replies among them.
 */
function withUnseen(chat: Doc, agent: string): Doc {
  const cursor = ((chat.read_cursors ?? []) as ReadCursor[]).find((r) => r.agent === agent);
  const botReplies = Number(chat.bot_messages ?? 0) - (cursor?.bot ?? 0);
  return { ...chat, unseen_count: Math.max(0, Number(chat.last_seq ?? 0) - (cursor?.seq ?? 0) - botReplies) };
}

function escapeRegex(s: string): string {
  return s.slice(0, 100).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
