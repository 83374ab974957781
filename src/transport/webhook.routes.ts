import { createHmac } from 'node:crypto';
import type { ChatService } from '../actors/chat/chat-service.ts';
import { channelById } from '../domain/channels.ts';
import { parseWebhook } from '../domain/webhook.ts';
import { AppError } from '../infra/errors.ts';
import type { Forwarder } from '../infra/forwarder.ts';
import { safeEqual } from '../infra/safe-equal.ts';
import type { HttpRouter } from './http.ts';

export interface WebhookDeps {
  chats: ChatService;
  /** Unset: signatures are not checked (CONTRACT.md). */
  secret: string | undefined;
  forwarder: Forwarder | undefined;
}

/**
 * `POST /api/chats/whatsapp_chat/{channel}` (spec FR-1): verified, parsed,
 * made durable, acknowledged — and only then applied, asynchronously.
 */
export function registerWebhookRoutes(router: HttpRouter, deps: WebhookDeps): void {
  router.post('/api/chats/whatsapp_chat/:channel', async (req) => {
    const channel = channelById(req.params[0] ?? '');
    if (!channel) throw new AppError('UNKNOWN_CHANNEL', `No WhatsApp channel ${req.params[0]}`);
    deps.chats.assertAccepting(); // under overload, refuse before spending CPU on the body
    if (deps.secret !== undefined) verifySignature(req.body, req.headers['x-hub-signature-256'], deps.secret);
    const parsed = parseWebhook(req.json());
    if (!parsed.ok) throw new AppError('NOT_A_WEBHOOK', `Not a WhatsApp webhook: ${parsed.reason}`);
    const { accepted, duplicates } = await deps.chats.ingest(channel, parsed.events);
    if (accepted > 0) deps.forwarder?.forward(req.body);
    req.log.debug({ channel: channel.id, accepted, duplicates }, 'webhook accepted');
    return { json: { status: 1 } };
  });
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time. */
function verifySignature(body: Buffer, header: string | undefined, secret: string): void {
  if (!header?.startsWith('sha256=')) throw new AppError('BAD_SIGNATURE', 'X-Hub-Signature-256 is missing');
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  if (!safeEqual(header.toLowerCase(), expected)) throw new AppError('BAD_SIGNATURE');
}
