import type { Logger } from '../infra/logger.ts';
import { isDuplicateKey, type DocumentStore } from '../infra/store/store.ts';

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

export interface OutboundSender {
  /** Records and sends once; a second call with the same key does nothing. */
  send(req: OutboundRequest): Promise<void>;
}

/**
 * Until the Pinbot client exists (the outbound issue), every send is recorded
 * in the `outbox` collection as `dry_run` and logged — the product behaves the same.
 */
export class DryRunSender implements OutboundSender {
  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
  ) {}

  async send(req: OutboundRequest): Promise<void> {
    try {
      await this.store.collection('outbox').insertOne({
        _id: req.key,
        chat_id: req.chatId,
        to: req.to,
        send_type: req.sendType,
        body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: req.to, ...req.message },
        state: 'dry_run',
        created_at: new Date(),
      });
      this.log.info({ key: req.key, sendType: req.sendType, type: req.message.type }, 'outbound WhatsApp (dry-run: no API key)');
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
}
