import { z } from 'zod';
import type { ChatService } from '../actors/chat/chat-service.ts';
import { CHANNELS, channelById } from '../domain/channels.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import type { ChatResponseCache } from '../infra/pinbot/response-cache.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { messageView, okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface OutboundRouteDeps {
  chats: ChatService;
  cache: ChatResponseCache;
  /** The admin request budget per client address (the cache routes). */
  adminLimit?: HttpRateLimit;
  /** The template route's budget per client address (each request sends a WhatsApp message). */
  templateLimit?: HttpRateLimit;
  auth: Authenticator;
}

const DEFAULT_CHANNEL = CHANNELS.find((c) => c.customerType === 'Customer' && !c.automated)!;

export const templateQuery = z.object({
  to: z.string().describe('the customer number: 10 digits, or 91 and 10 digits').transform((v, ctx) => normalizeNumber(v) ?? (ctx.addIssue({ code: 'custom', message: 'not a phone number (10 digits, or 91 and 10 digits)' }), z.NEVER)),
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'a template name: lower-case letters, digits and _').default('ask_issue_resolved'),
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as hi or en_US').default('hi'),
  /** The webhook channel a new chat opens on (an existing chat keeps its own). */
  channel: z
    .string()
    .refine((c) => channelById(c) !== undefined && !channelById(c)!.automated, 'one of the agent channels (e.g. 8000247247)')
    .describe('the webhook channel a new chat opens on (an agent channel); an existing chat keeps its own')
    .default(DEFAULT_CHANNEL.id),
});

export const idempotencyKey = z.string().regex(/^[\w.:-]{1,128}$/, 'letters, digits and . _ : - (at most 128)');

export const deleteCacheBody = z.object({ message: z.string().min(1).max(1000).describe('the message identifier: a chat message id (`_id`, `message_id` in message_status), or the outbox key of a send with no chat message') });

/** Spec FR-7 template endpoint and FR-10 cache management (stored media: `media.routes.ts`). */
export function registerOutboundRoutes(router: HttpRouter, deps: OutboundRouteDeps): void {
  // GET, as the spec has it, although it sends: repeat it with the same Idempotency-Key or X-Request-Id and it sends once.
  router.get('/api/chats/send_whatsapp_template', async (req) => {
    const agent = await authenticate(req, deps.auth);
    const q = validate(templateQuery, Object.fromEntries(req.query));
    const given = req.headers['idempotency-key'];
    const requestId = given === undefined ? req.reqId : validate(idempotencyKey, given);
    const channel = channelById(q.channel)!;
    const message = await deps.chats.sendTemplate(agent.sub, q.to, { name: q.name, language: q.language }, requestId, { customerType: channel.customerType, channel: channel.id });
    return { json: { status: 1, data: { message } } };
  }, { sideEffects: true, rateLimit: deps.templateLimit });

  router.post('/api/chats/clear_cache', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    return { json: { status: 1, data: { deleted: await deps.cache.clear() } } };
  }, { rateLimit: deps.adminLimit });

  router.post('/api/chats/delete_cache', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const { message } = validate(deleteCacheBody, req.json());
    return { json: { status: 1, data: { deleted: await deps.cache.delete(message) } } };
  }, { rateLimit: deps.adminLimit });
}

const deleted = okBody({ data: z.object({ deleted: z.number().int().min(0) }) });

export const outboundRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/chats/send_whatsapp_template', tags: ['outbound'], auth: 'agent', sideEffects: true,
    summary: 'Send a WhatsApp template to a customer (spec FR-7)',
    description: 'A GET that sends, as the spec has it: repeated with the same Idempotency-Key (or X-Request-Id) it sends once. HEAD answers 405.',
    query: templateQuery,
    headers: { 'idempotency-key': { schema: idempotencyKey, description: 'repeat-safe key; defaults to the request id' } },
    responses: { 200: { description: 'The template message, recorded on the chat and queued for sending', schema: okBody({ data: z.object({ message: messageView }) }) } },
    errors: ['VALIDATION_FAILED', 'RATE_LIMITED'],
  },
  {
    method: 'post', path: '/api/chats/clear_cache', tags: ['outbound'], auth: 'admin', summary: 'Clear the chat response cache (spec FR-10)',
    description: 'Deletes every `chat_response::` entry (Pinbot\'s answers to sends, kept 30 minutes) and nothing else: not the spec\'s FLUSHDB, since the same Redis holds ownership, streams, counters and locks.',
    responses: { 200: { description: 'How many entries were deleted', schema: deleted } },
  },
  {
    method: 'post', path: '/api/chats/delete_cache', tags: ['outbound'], auth: 'admin', summary: 'Delete one cached response (spec FR-10)',
    description: 'Deletes `chat_response::{message}`: Pinbot\'s answer to the send of that message.',
    body: deleteCacheBody,
    responses: { 200: { description: 'How many entries were deleted', schema: deleted } },
    errors: ['VALIDATION_FAILED'],
  },
];
