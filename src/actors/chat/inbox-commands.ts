import { randomUUID } from 'node:crypto';
import { AppError } from '../../infra/errors.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { listingOf, type ChatContext, type ChatEvent } from '../../machines/chat.machine.ts';
import type { AskActor } from '../cluster/dispatch.ts';
import type { Delivery } from '../runtime/actor-host.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { AssignmentPorts, QueuedChat } from '../inbox/assigner.ts';
import type { ChatService } from './chat-service.ts';
import { ChatStore } from './chat-store.ts';
import { chatOut, messageOut, type Doc } from './chat-views.ts';

/** `@username` in a note (account usernames: letters, digits, `.`, `_`, `-`). */
const MENTION = /(?:^|[^\w@])@([A-Za-z0-9._-]{1,64})/g;
/** Agents one note may notify. */
const MAX_MENTIONS = 10;

/** The usernames a note names, each once, without its author. */
export function mentionsIn(text: string, author: string): string[] {
  const names = [...text.matchAll(MENTION)].map((m) => m[1]!.replace(/[._-]+$/, '').toLowerCase()).filter((n) => n && n !== author);
  return [...new Set(names)].slice(0, MAX_MENTIONS);
}

/**
 * The team-inbox commands agents send (#18): each is one event to the chat
 * actor, whose machine decides; the reply is the chat (or the note) as stored.
 * Also the chat side of the assigner (`ports`): its queue, agents' loads, ASSIGN.
 */
export class InboxCommands {
  private readonly store: ChatStore;

  constructor(
    documents: DocumentStore,
    private readonly chats: ChatService,
    private readonly ask: AskActor,
  ) {
    this.store = new ChatStore(documents);
  }

  /** Assigns (`assignee` null: unassigns) by an agent's hand; assigning the current assignee again changes nothing. */
  assign(by: string, chatId: string, assignee: string | null): Promise<Doc> {
    return this.apply(chatId, { type: 'ASSIGN', id: `assign:${randomUUID()}`, at: Date.now(), by, assignee, manual: true }, (c) => c.inbox.assignee === assignee);
  }

  /** active / pending / resolved; the status it has already is a no-op. */
  setStatus(by: string, chatId: string, status: 'active' | 'pending' | 'resolved'): Promise<Doc> {
    return this.apply(chatId, { type: 'SET_STATUS', id: `status:${randomUUID()}`, at: Date.now(), by, status }, (_c, value) => listingOf(value) === status);
  }

  /** Snoozes until `until` (epoch ms) or the customer's next message (null). */
  snooze(by: string, chatId: string, until: number | null): Promise<Doc> {
    return this.apply(chatId, { type: 'SNOOZE', id: `snooze:${randomUUID()}`, at: Date.now(), by, until }, (c, value) => value === 'snoozedUntilReply' && until === null && c.inbox.snoozedUntil === null);
  }

  label(by: string, chatId: string, label: string, op: 'add' | 'remove'): Promise<Doc> {
    return this.apply(chatId, { type: 'LABEL', id: `label:${randomUUID()}`, at: Date.now(), by, label, op }, (c) => (op === 'add') === c.inbox.labels.includes(label));
  }

  /** A private note (same `requestId` → stored once); `@username`s in it are notified. */
  async note(agent: string, chatId: string, text: string, requestId: string): Promise<Doc> {
    const id = `note:${agent}:${requestId}`;
    await this.apply(chatId, { type: 'NOTE', id, at: Date.now(), agent, text, mentions: mentionsIn(text, agent) }, () => false);
    const message = await this.store.messageByEvent(chatId, id);
    if (!message) throw new AppError('INTERNAL', `note ${id} was not stored`);
    return messageOut(message);
  }

  /** What the assigner needs of chats. */
  ports(): AssignmentPorts {
    return {
      queue: async (numbers, limit) =>
        (await this.store.unassignedQueue(numbers, limit)).map((d) => ({ chatId: String(d._id), waitingSince: d.waiting_since instanceof Date ? d.waiting_since.getTime() : 0 })),
      loads: (agents) => this.store.openLoads(agents),
      assign: async (chat: QueuedChat, agent: string, team: string | null) => {
        // One decision, one event id: a retried pass re-sends the same event and it is applied once.
        const d = await this.send(chat.chatId, { type: 'ASSIGN', id: `auto:${chat.chatId}:${chat.waitingSince}`, at: Date.now(), by: 'auto', assignee: agent, team, manual: false });
        return d.handled && !d.duplicate;
      },
    };
  }

  private async send(chatId: string, event: ChatEvent): Promise<Delivery> {
    const key = await this.chats.keyOf(chatId);
    return this.ask('chat', key, event as ActorEvent);
  }

  /** Sends the event; a state that does not take it is INVALID_TRANSITION unless `unchanged` says the chat is already so. */
  private async apply(chatId: string, event: ChatEvent, unchanged: (c: ChatContext, value: unknown) => boolean): Promise<Doc> {
    const d = await this.send(chatId, event);
    if (!d.handled && !unchanged(d.context as ChatContext, d.value)) {
      throw new AppError('INVALID_TRANSITION', `The chat is ${listingOf(d.value)} (state ${String(d.value)}): it does not take ${event.type.toLowerCase()} now`);
    }
    const doc = await this.store.chatById(chatId);
    if (!doc) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    return chatOut(doc);
  }
}
