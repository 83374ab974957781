import { agentReplySendType, channelById, type CustomerType } from '../../domain/channels.ts';
import { AppError } from '../../infra/errors.ts';
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { insideServiceWindow } from '../../machines/chat.machine.ts';
import type { TypingIndicatorSender } from '../outbound/typing-indicator.ts';
import type { RoomPublisher } from '../runtime/room-publisher.ts';
import { ChatStore } from './chat-store.ts';

/** `inbox:typing:{chat}`: set while the customer was shown "typing…" less than the minimum interval ago (every pod). */
const throttleKey = (chatId: string) => `inbox:typing:${chatId}`;

/**
 * An agent typing (#18): the other agents viewing the chat see an
 * `agent_typing` push, and the customer WhatsApp's typing indicator — at most once per chat
 * per `minIntervalMs` across pods (a Redis key set only if absent), only
 * inside the 24-hour window and only when the customer's last message id is
 * known. Ephemeral by design: not a chat actor event (nothing to store), and
 * never retried.
 */
export class TypingRelay {
  private readonly chats: ChatStore;

  constructor(
    private readonly deps: { store: DocumentStore; kv: KeyValueStore; rooms: RoomPublisher; sender: TypingIndicatorSender; minIntervalMs: number; log: Logger; now?: () => number },
  ) {
    this.chats = new ChatStore(deps.store);
  }

  /** Resolves once the push is out and the indicator decided (it is sent in the background). */
  async typing(agent: string, chatId: string): Promise<{ indicator: boolean }> {
    const now = (this.deps.now ?? Date.now)();
    const chat = await this.chats.chatById(chatId, { last_inbound_wa_id: 1, last_customer_message_at: 1, channel: 1, customer_type: 1 });
    if (!chat) throw new AppError('NOT_FOUND', `No chat ${chatId}`);
    this.deps.rooms.publish(chatId, 'agent_typing', { chat_id: chatId, agent, at: new Date(now).toISOString() });
    const waId = typeof chat.last_inbound_wa_id === 'string' ? chat.last_inbound_wa_id : null;
    const last = chat.last_customer_message_at instanceof Date ? chat.last_customer_message_at.getTime() : null;
    if (!waId || !insideServiceWindow(last, now)) return { indicator: false };
    if (!(await this.deps.kv.set(throttleKey(chatId), agent, { onlyIfAbsent: true, ttlMs: this.deps.minIntervalMs }))) return { indicator: false };
    const sendType = channelById(String(chat.channel))?.sendType ?? agentReplySendType(chat.customer_type as CustomerType);
    void this.deps.sender
      .send(sendType, waId)
      .then((outcome) => outcome === 'failed' && this.deps.log.info({ chatId }, 'typing indicator not delivered (not retried)'))
      .catch((err: unknown) => this.deps.log.warn({ err, chatId }, 'typing indicator failed'));
    return { indicator: true };
  }
}
