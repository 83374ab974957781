/**
 * The team inbox in the console: this agent's availability, the Mine /
 * Unassigned / All counts, the agents to assign to, @mention notices and who
 * is typing — all from the chat actors through the socket (README "Team inbox").
 */
import { signal } from '@preact/signals';
import { applyChat, filters, openChat, openChatId, openListeners, pushListeners, socket } from './live.ts';
import { loadDesk } from './desk.ts';
import { session } from './session.ts';
import type { Push } from './socket.ts';
import type { AgentPresence, Availability, Chat, InboxCounts } from './types.ts';

export const availability = signal<Availability>('online');
export const counts = signal<InboxCounts | null>(null);
export const agents = signal<AgentPresence[]>([]);
export const agentCap = signal<number | null>(null);

export interface Mention {
  chat_id: string;
  customer: string;
  message_id: string;
  by: string;
  text: string;
  at: string;
}
/** Newest first, at most 20. */
export const mentions = signal<Mention[]>([]);
/** Who is typing in the open chat, with when it was last seen. */
export const typing = signal<{ agent: string; until: number }[]>([]);

const TYPING_SHOWN_MS = 5_000;
const TYPING_SEND_MS = 3_000;

export async function setAvailability(status: Availability): Promise<void> {
  const r = await socket!.request<{ status: Availability }>('set_availability', { status });
  availability.value = r.status;
}

let countsTimer: ReturnType<typeof setTimeout> | undefined;
/** The counts of the current status tab (and label/type filters), a moment after the last change that could move them. */
export function refreshCounts(): void {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(() => void loadCounts(), 150);
}

async function loadCounts(): Promise<void> {
  if (!socket) return;
  const f = filters.value;
  try {
    const r = await socket.request<InboxCounts>('inbox_counts', {
      ...(f.status ? { status: f.status } : {}),
      ...(f.customer_type ? { customer_type: f.customer_type } : {}),
      ...(f.label ? { label: f.label } : {}),
    });
    counts.value = { mine: r.mine, unassigned: r.unassigned, all: r.all };
  } catch {
    counts.value = null;
  }
}

export async function loadAgents(): Promise<void> {
  try {
    const r = await socket!.request<{ agents: AgentPresence[]; agent_cap: number }>('fetch_agents', {});
    agents.value = r.agents;
    agentCap.value = r.agent_cap;
  } catch {
    /* the assign menu then offers only what it has */
  }
}

async function chatRequest(event: string, data: Record<string, unknown>): Promise<Chat> {
  const r = await socket!.request<{ chat: Chat }>(event, data);
  applyChat(r.chat);
  if (openChatId.value === r.chat.chat_id) openChat.value = { ...openChat.value, ...r.chat };
  refreshCounts();
  return r.chat;
}

export const assignChat = (chatId: string, assignee: string | null) => chatRequest('assign_chat', { chat_id: chatId, assignee });
export const setChatStatus = (chatId: string, status: 'active' | 'pending' | 'resolved') => chatRequest('set_chat_status', { chat_id: chatId, status });
/** `until` absent: until the customer writes. */
export const snoozeChat = (chatId: string, until?: Date) => chatRequest('snooze_chat', { chat_id: chatId, ...(until ? { until: until.toISOString() } : {}) });
export const addLabel = (chatId: string, label: string) => chatRequest('add_label', { chat_id: chatId, label });
export const removeLabel = (chatId: string, label: string) => chatRequest('remove_label', { chat_id: chatId, label });

export async function sendNote(chatId: string, message: string): Promise<void> {
  await socket!.request('send_note', { chat_id: chatId, message });
}

let lastTypingSent = 0;
let lastTypingChat = '';
/** Called as the agent types a reply: at most one `typing` every 3 s per chat. */
export function agentTyping(chatId: string): void {
  const now = Date.now();
  if (chatId === lastTypingChat && now - lastTypingSent < TYPING_SEND_MS) return;
  lastTypingSent = now;
  lastTypingChat = chatId;
  void socket?.request('typing', { chat_id: chatId }).catch(() => undefined);
}

let typingTimer: ReturnType<typeof setTimeout> | undefined;
function pruneTyping(): void {
  const now = Date.now();
  typing.value = typing.value.filter((t) => t.until > now);
  clearTimeout(typingTimer);
  if (typing.value.length) typingTimer = setTimeout(pruneTyping, 500);
}

function onPush(p: Push): void {
  const me = session.value?.agent.username;
  switch (p.event) {
    case 'chat_assigned':
    case 'chat_status_updated':
    case 'room_update':
    case 'room_update_customer':
    case 'room_update_vendor':
    case 'room_update_srdp':
      refreshCounts();
      break;
    case 'agent_availability': {
      const d = p.data as { agent: string; status: Availability };
      if (d.agent === me) availability.value = d.status;
      agents.value = agents.value.map((a) => (a.username === d.agent ? { ...a, status: d.status } : a));
      break;
    }
    case 'mention': {
      const d = p.data as Mention;
      mentions.value = [d, ...mentions.value.filter((m) => m.message_id !== d.message_id)].slice(0, 20);
      break;
    }
    case 'agent_typing': {
      const d = p.data as { chat_id: string; agent: string };
      if (d.agent === me || d.chat_id !== openChatId.value) break;
      typing.value = [...typing.value.filter((t) => t.agent !== d.agent), { agent: d.agent, until: Date.now() + TYPING_SHOWN_MS }];
      pruneTyping();
      break;
    }
  }
}

export function dismissMention(messageId: string): void {
  mentions.value = mentions.value.filter((m) => m.message_id !== messageId);
}

pushListeners.push(onPush);
openListeners.push(() => {
  void loadDesk();
  void loadAgents();
  refreshCounts();
  void socket?.request<{ availability?: Availability }>('config').then((c) => {
    if (c.availability) availability.value = c.availability;
  }, () => undefined);
});
