import type { PinbotEndpoints } from '../../domain/pinbot-endpoints.ts';
import type { Logger } from '../../infra/logger.ts';
import { PinbotClient } from '../../infra/pinbot/pinbot-client.ts';

/** What became of one typing indicator: it went out, was refused or failed (never retried), or the number has no key (dry run). */
export type TypingOutcome = 'sent' | 'failed' | 'dry_run';

export interface TypingIndicatorSender {
  /** Marks `waMessageId` read and shows "typing…" to the customer, from the number of `sendType`. One attempt, never retried. */
  send(sendType: string, waMessageId: string): Promise<TypingOutcome>;
  close(): Promise<void>;
}

/**
 * WhatsApp's typing indicator (Cloud API: a `status: read` of the customer's
 * last message with `typing_indicator`), sent to the channel's Pinbot URL.
 * Best effort: not an outbox record, one attempt with a short timeout and no
 * retry (a late "typing…" is worse than none), on a client of its own so it
 * never waits behind or slows the outbox's sends.
 */
export function typingIndicatorSender(endpoints: PinbotEndpoints, log: Logger): TypingIndicatorSender {
  const client = new PinbotClient({ log: log.child({ component: 'typing' }), maxAttempts: 1, timeoutMs: 3000, connectTimeoutMs: 2000, sendBudgetMs: 3000, connections: 4 });
  return {
    async send(sendType, waMessageId) {
      const route = endpoints.resolve(sendType);
      if (route.apiKey === undefined) return 'dry_run';
      const target = { originUrl: route.originUrl, path: route.path, apiKey: route.apiKey, wanumber: route.wanumber, businessNumber: route.businessNumber, channel: route.sendType };
      const body = { messaging_product: 'whatsapp', status: 'read', message_id: waMessageId, typing_indicator: { type: 'text' } };
      const outcome = await client.send(target, body, { outboxKey: `typing:${waMessageId}`, type: 'typing_indicator' });
      return outcome.result === 'sent' ? 'sent' : 'failed';
    },
    close: () => client.close(),
  };
}
