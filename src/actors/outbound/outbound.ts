import type { Logger } from '../../infra/logger.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { OutboxStore } from './outbox-store.ts';

/** One logical WhatsApp send; `key` makes it idempotent across retries, crashes and takeovers. */
export interface OutboundRequest {
  key: string;
  chatId: string;
  /** The customer's number as WhatsApp wants it (with country code). */
  to: string;
  sendType: string;
  /** The Cloud API message body (without `messaging_product`, `recipient_type`, `to`). */
  message: Record<string, unknown>;
  /** The stored chat message this send carries (it gets WhatsApp's message id once sent). */
  messageId?: string;
}

/** A delivery status from a webhook, for the send it belongs to. */
export interface DeliveryUpdate {
  waMessageId: string;
  status: string;
  at: number;
  error?: string | undefined;
}

/** Inbound media to fetch from Pinbot and keep for the dashboard. */
export interface MediaJob {
  chatId: string;
  /** The chat actor's key (its number and type): its shard decides which pod downloads. */
  chatKey: string;
  /** The `messages` document the media belongs to (it gets `mediaUrl`). */
  messageId: string;
  mediaId: string;
  /** The webhook channel it arrived on (whose key and number download it). */
  channel: string;
  mimeType?: string | undefined;
}

export interface OutboundSender {
  /**
   * Records the send (exactly once per key) and returns; the request itself
   * happens in the background. A second call with the same key does nothing.
   * Throws MessageBuildError for a body that is not a valid message.
   */
  send(req: OutboundRequest): Promise<void>;
  /** Applies a webhook delivery status to the outbox record it belongs to. */
  recordDelivery?(update: DeliveryUpdate): Promise<void>;
  /** Records the durable download job of inbound media (idempotent) and starts it in the background. */
  recordMedia?(job: MediaJob): Promise<void>;
}

/**
 * Records every send in the outbox as `dry_run` and logs it, sending nothing
 * (tests and tools that need no Pinbot at all). The product uses `Outbox`
 * (`outbox.ts`), which is dry-run per channel without a key.
 */
export class DryRunSender implements OutboundSender {
  private readonly outbox: OutboxStore;

  constructor(
    store: DocumentStore,
    private readonly log: Logger,
  ) {
    this.outbox = new OutboxStore(store);
  }

  async send(req: OutboundRequest): Promise<void> {
    const recorded = await this.outbox.record({
      _id: req.key,
      chat_id: req.chatId,
      to: req.to,
      send_type: req.sendType,
      body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: req.to, ...req.message },
      state: 'dry_run',
      created_at: new Date(),
    });
    if (recorded) this.log.info({ key: req.key, sendType: req.sendType, type: req.message.type }, 'outbound WhatsApp (dry-run: no API key)');
  }
}
