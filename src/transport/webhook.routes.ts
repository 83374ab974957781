import { createHmac } from 'node:crypto';
import type { ChatService } from '../actors/chat/chat-service.ts';
import { parseWebhook } from '../domain/webhook.ts';
import { AppError } from '../infra/errors.ts';
import type { Forwarder } from '../infra/forwarder.ts';
import type { Logger } from '../infra/logger.ts';
import { safeEqual } from '../infra/safe-equal.ts';
import { z } from 'zod';
import { CHANNELS, channelById } from '../domain/channels.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRouter } from './http.ts';

export interface WebhookDeps {
  chats: ChatService;
  /** Unset: signatures are not checked (CONTRACT.md). */
  secret: string | undefined;
  forwarder: Forwarder | undefined;
  /** The root logger: asked whether debug lines are on before the request's own (a child, made on first use) is. */
  log: Pick<Logger, 'isLevelEnabled'>;
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
    // Only when debug is on: the request's logger is a child, and making one for every webhook was ~2.5 % of the pod's garbage.
    if (deps.log.isLevelEnabled('debug')) req.log.debug({ channel: channel.id, accepted, duplicates }, 'webhook accepted');
    return { json: { status: 1 } };
  });
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time. */
function verifySignature(body: Buffer, header: string | undefined, secret: string): void {
  if (!header?.startsWith('sha256=')) throw new AppError('BAD_SIGNATURE', 'X-Hub-Signature-256 is missing');
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  if (!safeEqual(header.toLowerCase(), expected)) throw new AppError('BAD_SIGNATURE');
}

/**
 * The Meta webhook envelope, for the document: `parseWebhook` (domain/webhook.ts)
 * is what checks each message and status, field by field.
 */
export const webhookBody = z.looseObject({
  object: z.string().optional(),
  entry: z.array(z.looseObject({
    id: z.string().optional(),
    changes: z.array(z.looseObject({
      field: z.string().optional(),
      value: z.looseObject({
        messaging_product: z.string().optional(),
        metadata: z.looseObject({ display_phone_number: z.string().optional(), phone_number_id: z.string().optional() }).optional(),
        contacts: z.array(z.looseObject({ wa_id: z.string().optional(), profile: z.looseObject({ name: z.string().optional() }).optional() })).optional(),
        messages: z.array(z.looseObject({ from: z.string(), id: z.string(), timestamp: z.string(), type: z.string() })).optional(),
        statuses: z.array(z.looseObject({ id: z.string(), status: z.enum(['sent', 'delivered', 'read', 'failed']), timestamp: z.string(), recipient_id: z.string() })).optional(),
      }).optional(),
    })),
  })),
});

export const webhookRouteDocs: RouteDoc[] = [
  {
    method: 'post', path: '/api/chats/whatsapp_chat/{channel}', tags: ['webhook'], auth: 'signature',
    summary: 'Inbound WhatsApp webhook (spec FR-1)',
    description: 'Acknowledged once its events are durable; applied asynchronously. Signed with X-Hub-Signature-256 when WEBHOOK_SECRET is set.',
    params: { channel: { schema: z.enum(CHANNELS.map((c) => c.id) as [string, ...string[]]), description: 'the business number the webhook is for' } },
    body: webhookBody,
    responses: { 200: { description: 'Durable', schema: okBody({}) } },
    errors: ['UNKNOWN_CHANNEL', 'NOT_A_WEBHOOK', 'VALIDATION_FAILED'],
  },
];
