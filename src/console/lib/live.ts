/**
 * The live state of the console: the socket, the counters, the chat list and
 * the open conversation, all as signals, kept current by the server's pushes.
 */
import { batch, computed, signal } from '@preact/signals';
import { ApiError, getJson } from './api.ts';
import { session, signOut } from './session.ts';
import { ConsoleSocket, type Push } from './socket.ts';
import type { Chat, CustomerType, Message, Stats } from './types.ts';

/** The profile filters (joined from `users` on the server) and the discount bot's own chats (status `bot`, in no other list). */
export const SPECIAL_FILTERS = ['Active_Approved', 'Pending', 'InJourney', 'Suspend', 'Discount_Bot'] as const;
export const CUSTOMER_TYPES: CustomerType[] = ['Customer', 'Partner', 'Vendor', 'SRDP'];

export let socket: ConsoleSocket | undefined;
/** The current socket as a signal, so views follow a new one (after signing in again). */
export const currentSocket = signal<ConsoleSocket | undefined>(undefined);
/** The business numbers of each customer type (the `config` event's channels), for the filter's labels. */
export const channelsByType = signal<Partial<Record<CustomerType, string[]>>>({});
export const stats = signal<Stats | null>(null);
export const notice = signal<string>('');

// ---- chat list -------------------------------------------------------------

export interface ListFilters {
  status: 'active' | 'pending' | 'snoozed' | 'resolved' | '';
  /** The team inbox's views: assigned to me, waiting for anyone, every chat. */
  view: 'mine' | 'unassigned' | 'all';
  /** A label of the catalogue, or ''. */
  label: string;
  customer_type: CustomerType | '';
  /** A number or name, or one of SPECIAL_FILTERS. */
  search: string;
  special: (typeof SPECIAL_FILTERS)[number] | '';
}

const PAGE_SIZE = 50;
export const filters = signal<ListFilters>({ status: 'active', view: 'all', label: '', customer_type: '', search: '', special: '' });
export const chats = signal<Chat[]>([]);
export const chatTotal = signal(0);
export const listLoading = signal(false);
export const listError = signal('');
let listGeneration = 0;
let pagesLoaded = 0;

function listQuery(page: number): Record<string, unknown> {
  const f = filters.value;
  return {
    // The bot's chats have a status of their own (`bot`): the tabs do not apply to them.
    status: f.special === 'Discount_Bot' ? '' : f.status,
    customer_type: f.customer_type,
    search: f.special || f.search.trim(),
    ...(f.view !== 'all' ? { view: f.view } : {}),
    ...(f.label ? { label: f.label } : {}),
    page,
    page_size: PAGE_SIZE,
  };
}

/** Page 1 again (filters changed, or after a reconnect). */
export async function reloadList(): Promise<void> {
  const gen = ++listGeneration;
  pagesLoaded = 0;
  listLoading.value = true;
  try {
    const r = await socket!.request<{ chats: Chat[]; total: number }>('fetch_all_chats', listQuery(1));
    if (gen !== listGeneration) return;
    batch(() => {
      chats.value = r.chats;
      chatTotal.value = r.total;
      listError.value = '';
    });
    pagesLoaded = 1;
  } catch (err) {
    if (gen === listGeneration) listError.value = (err as Error).message;
  } finally {
    if (gen === listGeneration) listLoading.value = false;
  }
}

/** The next page, as the agent scrolls near the end of what is loaded. */
export async function loadMoreChats(): Promise<void> {
  if (listLoading.value || pagesLoaded === 0 || chats.value.length >= chatTotal.value) return;
  const gen = listGeneration;
  listLoading.value = true;
  try {
    const r = await socket!.request<{ chats: Chat[]; total: number }>('fetch_all_chats', listQuery(pagesLoaded + 1));
    if (gen !== listGeneration) return;
    const have = new Set(chats.value.map((c) => c.chat_id));
    batch(() => {
      chats.value = [...chats.value, ...r.chats.filter((c) => !have.has(c.chat_id))];
      chatTotal.value = r.total;
    });
    pagesLoaded++;
  } catch (err) {
    if (gen === listGeneration) listError.value = (err as Error).message;
  } finally {
    if (gen === listGeneration) listLoading.value = false;
  }
}

/** Whether a pushed chat belongs in the list the agent is looking at. */
function matches(c: Chat): boolean {
  const f = filters.value;
  if (f.status && c.status !== f.status) return false;
  if (f.customer_type && c.customer_type !== f.customer_type) return false;
  if (f.view === 'mine' && c.assignee !== session.value?.agent.username) return false;
  if (f.view === 'unassigned' && c.assignee) return false;
  if (f.label && !(c.labels ?? []).includes(f.label)) return false;
  if (f.special) return false; // profile filters are joined on the server: a reload shows such chats
  const q = f.search.trim().toLowerCase();
  if (q && !(c.customer ?? '').includes(q.replace(/\D/g, '') || '\u0000') && !(c.customer_name ?? '').toLowerCase().includes(q)) return false;
  return true;
}

/** A chat the agent changed (assigned, labelled, snoozed…): list and open conversation take the server's copy. */
export function applyChat(c: Chat): void {
  chatChanged(c);
}

/** A `room_update*` push: the chat moves to the top (newest activity), its badge counts the customer's new messages. */
function chatChanged(pushed: Chat): void {
  const list = chats.value;
  const i = list.findIndex((c) => c.chat_id === pushed.chat_id);
  const known = i >= 0 ? list[i] : undefined;
  const isOpen = openChatId.value === pushed.chat_id;
  const grew = (pushed.last_seq ?? 0) - (known?.last_seq ?? (pushed.last_seq ?? 1) - 1);
  const fromCustomer = pushed.last_msg_by === pushed.customer;
  const unseen = isOpen ? 0 : (known?.unseen_count ?? 0) + (fromCustomer && grew > 0 ? grew : 0);
  const merged: Chat = { ...known, ...pushed, unseen_count: pushed.unseen_count ?? unseen };
  if (isOpen) openChat.value = { ...openChat.value, ...merged };
  const rest = i >= 0 ? [...list.slice(0, i), ...list.slice(i + 1)] : list;
  batch(() => {
    if (!matches(merged)) {
      if (known) {
        chats.value = rest;
        chatTotal.value = Math.max(0, chatTotal.value - 1);
      }
      return;
    }
    // Only new activity (a newer message) moves a chat to the top; an assignment, a label or a status change updates it in place.
    const newer = !known || (merged.last_message_time ?? '') > (known.last_message_time ?? '') || (merged.last_seq ?? 0) > (known.last_seq ?? 0);
    chats.value = newer ? [merged, ...rest] : list.map((c) => (c.chat_id === merged.chat_id ? merged : c));
    if (!known) chatTotal.value++;
  });
}

function statusChanged(d: { chat_id: string; customer?: string; status: Chat['status']; status_updated_by?: string; snoozed_until?: string | null }): void {
  const extra = d.snoozed_until !== undefined ? { snoozed_until: d.snoozed_until } : {};
  if (openChatId.value === d.chat_id && openChat.value) openChat.value = { ...openChat.value, status: d.status, ...extra };
  const known = chats.value.find((c) => c.chat_id === d.chat_id);
  if (known) chatChanged({ ...known, status: d.status, ...extra, status_updated_by: d.status_updated_by ?? null, unseen_count: known.unseen_count ?? 0 });
  // A chat this list has not loaded: when it now belongs here (by status and search), page 1 is asked again.
  else if (filters.value.status && matches({ chat_id: d.chat_id, customer: d.customer ?? '', status: d.status } as Chat)) void reloadList();
}

// ---- the open conversation -------------------------------------------------

const HISTORY_PAGE = 30;
export const openChatId = signal<string | null>(null);
export const openChat = signal<Chat | null>(null);
/** Oldest first; unique by `_id`. */
export const messages = signal<Message[]>([]);
export const olderLeft = signal(false);
export const historyLoading = signal(false);
/** Set once the first page of the open chat's history is in. */
export const historyLoaded = signal(false);
export const conversationError = signal('');
export const viewers = signal<string[]>([]);
let historyPages = 0;
let conversationGeneration = 0;
let viewerTimer: ReturnType<typeof setInterval> | undefined;

/** The last message the customer sent, for the 24-hour window. */
export const lastCustomerMessageAt = computed(() => {
  for (let i = messages.value.length - 1; i >= 0; i--) {
    const m = messages.value[i]!;
    if (m.type === 'Customer' && m.datetime) return Date.parse(m.datetime);
  }
  return null;
});
/** Set when the server refused a reply with OUTSIDE_SERVICE_WINDOW. */
export const windowRefused = signal(false);
const DAY_MS = 24 * 3_600_000;
/**
 * Closed when the newest customer message loaded is over 24 hours old, or
 * when none is loaded and the whole history is (no customer message at all).
 */
export const windowClosed = computed(() => {
  if (windowRefused.value) return true;
  const last = lastCustomerMessageAt.value;
  if (last !== null) return Date.now() - last >= DAY_MS;
  return historyLoaded.value && !olderLeft.value && openChat.value !== null;
});

function mergeMessages(incoming: Message[]): void {
  if (incoming.length === 0) return;
  const byId = new Map(messages.value.map((m) => [m._id, m]));
  for (const m of incoming) byId.set(m._id, { ...byId.get(m._id), ...m });
  messages.value = [...byId.values()].sort((a, b) => a.seq - b.seq);
}

export async function openConversation(chatId: string): Promise<void> {
  const previous = openChatId.value;
  if (previous === chatId) return;
  const gen = ++conversationGeneration;
  batch(() => {
    openChatId.value = chatId;
    openChat.value = chats.value.find((c) => c.chat_id === chatId) ?? null;
    messages.value = [];
    olderLeft.value = false;
    historyLoaded.value = false;
    windowRefused.value = false;
    conversationError.value = '';
    viewers.value = [];
    chats.value = chats.value.map((c) => (c.chat_id === chatId ? { ...c, unseen_count: 0 } : c));
  });
  historyPages = 0;
  if (previous) void socket?.request('leave_chat', { chat_id: previous }).catch(() => undefined);
  try {
    await socket!.request('join_chat', { chat_id: chatId });
    await loadOlder(gen);
    void refreshViewers();
    clearInterval(viewerTimer);
    viewerTimer = setInterval(() => void refreshViewers(), 5_000);
  } catch (err) {
    if (gen === conversationGeneration) conversationError.value = (err as Error).message;
  }
}

export function closeConversation(): void {
  const previous = openChatId.value;
  conversationGeneration++;
  clearInterval(viewerTimer);
  batch(() => {
    openChatId.value = null;
    openChat.value = null;
    messages.value = [];
  });
  if (previous) void socket?.request('leave_chat', { chat_id: previous }).catch(() => undefined);
}

/** One more page of history, older than what is shown (page 1 is the newest). */
export async function loadOlder(gen = conversationGeneration): Promise<void> {
  const chatId = openChatId.value;
  if (!chatId || historyLoading.value) return;
  historyLoading.value = true;
  try {
    const r = await socket!.request<{ chat: Chat; messages: Message[]; total: number }>('fetch_chats_by_user', { chat_id: chatId, page: historyPages + 1, page_size: HISTORY_PAGE });
    if (gen !== conversationGeneration) return;
    historyPages++;
    batch(() => {
      openChat.value = { ...openChat.value, ...r.chat };
      mergeMessages(r.messages);
      olderLeft.value = historyPages * HISTORY_PAGE < r.total;
      historyLoaded.value = true;
    });
  } catch (err) {
    if (gen === conversationGeneration) conversationError.value = (err as Error).message;
  } finally {
    historyLoading.value = false;
  }
}

/** What a reconnecting console missed in the open chat: `fetch_missed` after the last seq shown, until caught up. */
async function catchUp(): Promise<void> {
  const chatId = openChatId.value;
  if (!chatId) return;
  const gen = conversationGeneration;
  await socket!.request('join_chat', { chat_id: chatId });
  for (let round = 0; round < 50; round++) {
    const after = messages.value.reduce((n, m) => Math.max(n, m.seq), 0);
    const r = await socket!.request<{ messages: Message[] }>('fetch_missed', { chat_id: chatId, after_seq: after });
    if (gen !== conversationGeneration) return;
    mergeMessages(r.messages);
    if (r.messages.length < 100) break;
  }
  // Statuses and media that arrived while away changed messages already shown: page 1 brings them.
  const r = await socket!.request<{ chat: Chat; messages: Message[] }>('fetch_chats_by_user', { chat_id: chatId, page: 1, page_size: HISTORY_PAGE });
  if (gen !== conversationGeneration) return;
  openChat.value = { ...openChat.value, ...r.chat };
  mergeMessages(r.messages);
}

async function refreshViewers(): Promise<void> {
  const chatId = openChatId.value;
  if (!chatId) return;
  try {
    const r = await getJson<{ data: { viewers: string[] } }>(`/api/console/chats/${encodeURIComponent(chatId)}/viewers`);
    const me = session.value?.agent.username;
    if (openChatId.value === chatId) viewers.value = r.data.viewers.filter((v) => v !== me);
  } catch {
    /* presence is a nicety: keep the last answer */
  }
}

const STATUS_RANK: Record<string, number> = { pending: 0, dry_run: 1, sent: 1, delivered: 2, read: 3 };

function messageStatus(d: { chat_id: string; message_id?: string; wa_message_id?: string; status: string; error?: unknown }): void {
  if (d.chat_id !== openChatId.value) return;
  messages.value = messages.value.map((m) => {
    if (!(d.message_id ? m._id === d.message_id : d.wa_message_id && m.wa_message_id === d.wa_message_id)) return m;
    const next = { ...m, ...(d.wa_message_id ? { wa_message_id: d.wa_message_id } : {}) };
    if (d.status === 'failed' || d.status === 'uncertain') return { ...next, delivery_status: d.status, outbound_error: d.error as Message['outbound_error'] };
    const current = deliveryOf(m);
    return (STATUS_RANK[d.status] ?? 0) >= (STATUS_RANK[current] ?? 0) ? { ...next, delivery_status: d.status } : next;
  });
}

/** One status for the ticks: the furthest of the outbox outcome and WhatsApp's delivery status. */
export function deliveryOf(m: Message): string {
  const a = m.delivery_status;
  const b = m.outbound_status;
  if (a === 'failed' || b === 'failed') return 'failed';
  if (a === 'uncertain' || b === 'uncertain') return 'uncertain';
  const ra = a ? (STATUS_RANK[a] ?? 0) : -1;
  const rb = b ? (STATUS_RANK[b] ?? 0) : -1;
  return ra < 0 && rb < 0 ? 'pending' : ra >= rb ? a! : b!;
}

// ---- pushes and the connection ---------------------------------------------

/** More listeners of pushes (the team inbox's: assignments, mentions, typing, availability). */
export const pushListeners: ((p: Push) => void)[] = [];
/** Called on every (re)connect after the list reloads. */
export const openListeners: (() => void)[] = [];

function onPush(p: Push): void {
  for (const l of pushListeners) l(p);
  switch (p.event) {
    case 'dashboard_stats':
      statsPushes++;
      stats.value = p.data as Stats;
      break;
    case 'room_update':
    case 'room_update_customer':
    case 'room_update_vendor':
    case 'room_update_srdp':
      chatChanged(p.data as Chat);
      break;
    case 'new_message': {
      const m = p.data as Message;
      if (m.chat_id !== openChatId.value) break;
      mergeMessages([m]);
      // The server moves this agent's read cursor for every message pushed to a joined room.
      if (m.type === 'Customer') windowRefused.value = false;
      break;
    }
    case 'message_status':
      messageStatus(p.data);
      break;
    case 'message_media': {
      const d = p.data as { chat_id: string; message_id: string; mediaUrl: string };
      if (d.chat_id === openChatId.value) messages.value = messages.value.map((m) => (m._id === d.message_id ? { ...m, mediaUrl: d.mediaUrl } : m));
      break;
    }
    case 'chat_status_updated':
      statusChanged(p.data);
      break;
  }
}

/** Counter pushes received: a GET answered after a push may carry older counts (read, or cached, before it). */
let statsPushes = 0;

async function refreshStats(): Promise<void> {
  try {
    const before = statsPushes;
    const fetched = (await getJson<{ data: Stats }>('/api/dashboard/stats')).data;
    if (statsPushes === before) stats.value = fetched;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) notice.value = `Counters: ${(err as Error).message}`;
  }
}

/** Opens the socket for the signed-in agent; on every (re)connect the list, counters and open chat are brought up to date. */
export function connect(token: string): void {
  socket?.close();
  socket = new ConsoleSocket(token, {
    push: onPush,
    open: (again) => {
      void refreshStats();
      void socket?.request<{ channels: { id: string; customer_type: CustomerType; automated: boolean }[] }>('config').then((c) => {
        const by: Partial<Record<CustomerType, string[]>> = {};
        for (const ch of c.channels) if (!ch.automated) (by[ch.customer_type] ??= []).push(ch.id);
        channelsByType.value = by;
      }, () => undefined);
      void reloadList();
      for (const l of openListeners) l();
      if (again) void catchUp().catch((err: Error) => (conversationError.value = err.message));
    },
    authLost: (reason) => {
      disconnect();
      signOut(reason);
    },
  });
  currentSocket.value = socket;
}

export function disconnect(): void {
  socket?.close();
  socket = undefined;
  currentSocket.value = undefined;
  clearInterval(viewerTimer);
  batch(() => {
    openChatId.value = null;
    openChat.value = null;
    messages.value = [];
    chats.value = [];
    stats.value = null;
  });
}
