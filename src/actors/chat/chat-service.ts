import { randomUUID } from 'node:crypto';
import type { Channel, CustomerType } from '../../domain/channels.ts';
import { chatKey } from '../../domain/chat-key.ts';
import type { WebhookEvent } from '../../domain/webhook.ts';
import { AppError } from '../../infra/errors.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { insideServiceWindow, type ChatContext, type ChatEvent, type ChatStatus, type MessageBody } from '../../machines/chat.machine.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import { ChatStore } from './chat-store.ts';
import { chatOut, messageOut, type Doc } from './chat-views.ts';
import type { AskActor } from '../cluster/dispatch.ts';
import type { Inbox } from '../inbound/inbox.ts';
import { inboundItems } from '../inbound/inbound-events.ts';

/** Typed construction of a chat event (excess fields are caught here, not lost). */
const chatEvent = (e: ChatEvent): ActorEvent => e;

/** Most chat-id → actor key lookups kept in memory (the mapping never changes). */
const CHAT_ID_CACHE = 10_000;

/**
 * What the webhooks and the agent WebSocket ask of chats: inbound events go
 * through the durable inbox to the chat actors; agent commands go straight to
 * the actors (the WebSocket reply waits for the stored result).
 */
export class ChatService {
  private readonly chatIds = new Map<string, string>();
  private readonly chats: ChatStore;

  constructor(
    store: DocumentStore,
    private readonly inbox: Inbox,
    private readonly ask: AskActor,
    /** Past this many acknowledged, unapplied events webhooks are refused: the backlog stays bounded. */
    private readonly maxUnapplied = Infinity,
  ) {
    this.chats = new ChatStore(store);
  }

  /**
   * Makes a webhook's events durable; resolves once they are, then applies them in the background.
   * OVERLOADED (nothing stored) while this pod's backlog is full: the sender retries later.
   */
  async ingest(channel: Channel, events: readonly WebhookEvent[]): Promise<{ accepted: number; duplicates: number }> {
    this.assertAccepting();
    const items = events.flatMap((e) => inboundItems(channel, e));
    const { toDeliver, duplicates } = await this.inbox.accept(items);
    await this.inbox.enqueue(toDeliver); // ordered before anything acknowledged after this webhook
    return { accepted: items.length - duplicates, duplicates };
  }

  /** OVERLOADED while this pod's backlog is full; cheap, so a webhook can be refused before its body is parsed. */
  assertAccepting(): void {
    if (this.inbox.unapplied >= this.maxUnapplied) {
      throw new AppError('OVERLOADED', `${this.inbox.unapplied} acknowledged events are waiting to be applied (MAX_UNAPPLIED_EVENTS ${this.maxUnapplied}); retry shortly`);
    }
  }

  /** `new_chat`: the chat with this customer as a stakeholder of `customerType`, opened if it did not exist. */
  async openChat(agent: string, customer: string, customerType: CustomerType, channel: string): Promise<Doc> {
    const d = await this.ask('chat', chatKey(customer, customerType), chatEvent({ type: 'OPEN', id: `open:${randomUUID()}`, at: Date.now(), by: agent, channel, customerType }));
    return chatOut(await this.chatDoc((d.context as ChatContext).chatId));
  }

  /**
   * `send_message`: stored, pushed to the room, handed to WhatsApp. Same `requestId` → applied once.
   * `body` carries a message built elsewhere (`extra.cloud`: media, buttons, list, contact card), `text` its summary.
   * Refused with OUTSIDE_SERVICE_WINDOW (nothing stored) when the customer's last message is over 24 hours old.
   */
  async sendAgentMessage(agent: string, chatId: string, text: string, requestId: string, body: MessageBody = { kind: 'text', text }): Promise<Doc> {
    const key = await this.keyOf(chatId);
    const id = `agent:${agent}:${requestId}`;
    const at = Date.now();
    const d = await this.ask('chat', key, chatEvent({ type: 'AGENT_MESSAGE', id, at, agent, body }));
    // The machine does not take a free-form reply outside the window (guard `mayReply`); say why, from the same rule.
    const last = (d.context as ChatContext).lastCustomerMessageAt;
    if (!d.handled && !insideServiceWindow(last, at)) throw outsideWindow(last, at);
    const message = await this.chats.messageByEvent(chatId, id);
    if (!message) throw new AppError('INTERNAL', `message ${id} was not stored (state ${String(d.value)})`);
    return messageOut(message);
  }

  /**
   * A WhatsApp template to `customer` (allowed at any time), recorded as an agent message in their chat
   * of the sending channel's type — opened on that channel if there is none. Same `requestId` → sent once.
   */
  async sendTemplate(agent: string, customer: string, template: { name: string; language: string }, requestId: string, open: { customerType: CustomerType; channel: string }): Promise<Doc> {
    const key = chatKey(customer, open.customerType);
    if (!(await this.chats.chatOf(customer, open.customerType, { _id: 1 }))) {
      await this.ask('chat', key, chatEvent({ type: 'OPEN', id: `open:${randomUUID()}`, at: Date.now(), by: agent, channel: open.channel, customerType: open.customerType }));
    }
    const id = `template:${agent}:${requestId}`;
    const body = { kind: 'template', text: `Template: ${template.name} (${template.language})`, extra: { template } };
    const d = await this.ask('chat', key, chatEvent({ type: 'AGENT_MESSAGE', id, at: Date.now(), agent, body }));
    const chatId = (d.context as ChatContext).chatId;
    const message = await this.chats.messageByEvent(chatId, id);
    if (!message) throw new AppError('INTERNAL', `template message ${id} was not stored (state ${String(d.value)})`);
    return messageOut(message);
  }

  /**
   * `update_chat_status`: active, pending or resolved with audit fields; the same status again is a no-op. The chat of
   * `customer` as a stakeholder of `type`; without a type, the number's most recently active chat.
   */
  async setStatus(agent: string, customer: string, status: 'active' | 'pending' | 'resolved', type?: CustomerType): Promise<Doc> {
    const existing = await this.chats.chatOf(customer, type, { _id: 1, customer_type: 1 });
    if (!existing) throw new AppError('NOT_FOUND', `No chat with customer ${customer}${type ? ` as ${type}` : ''}`);
    await this.ask('chat', chatKey(customer, existing.customer_type as CustomerType), chatEvent({ type: 'SET_STATUS', id: `status:${randomUUID()}`, at: Date.now(), by: agent, status }));
    return chatOut(await this.chatDoc(String(existing._id)));
  }

  /** Marks the chat as seen by `agent`: everything (opening a chat), or up to message `upTo` (one shown to it). */
  async markRead(agent: string, chatId: string, upTo?: number): Promise<void> {
    const key = await this.keyOf(chatId);
    await this.ask('chat', key, chatEvent({ type: 'READ', id: `read:${randomUUID()}`, at: Date.now(), agent, ...(upTo === undefined ? {} : { upTo }) }));
  }

  /** The key of the actor of chat `chatId` (its number and type); NOT_FOUND for an unknown id. */
  async keyOf(chatId: string): Promise<string> {
    const cached = this.chatIds.get(chatId);
    if (cached) return cached;
    const doc = await this.chats.chatById(chatId, { customer: 1, customer_type: 1 });
    if (!doc) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    const key = chatKey(String(doc.customer), doc.customer_type as CustomerType);
    if (this.chatIds.size >= CHAT_ID_CACHE) this.chatIds.delete(this.chatIds.keys().next().value!);
    this.chatIds.set(chatId, key);
    return key;
  }

  private async chatDoc(chatId: string): Promise<Doc> {
    const doc = await this.chats.chatById(chatId);
    if (!doc) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    return doc;
  }
}

/** OUTSIDE_SERVICE_WINDOW, saying how long ago the customer wrote and what to send instead. */
function outsideWindow(lastCustomerMessageAt: number | null, at: number): AppError {
  const since = lastCustomerMessageAt === null ? 'The customer has not written on WhatsApp yet' : `The customer last wrote ${Math.floor((at - lastCustomerMessageAt) / 3_600_000)} hours ago`;
  return new AppError('OUTSIDE_SERVICE_WINDOW', `${since}: outside WhatsApp's 24-hour window only a template can be sent (GET /api/chats/send_whatsapp_template?to=…&name=ask_issue_resolved)`);
}
