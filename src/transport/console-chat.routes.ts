/**
 * What the agent console needs beyond the spec's WebSocket events: sending
 * every kind of message the outbound builders make (media by link, reply
 * buttons, list, link button, contact card; text goes over `send_message`,
 * templates over GET /api/chats/send_whatsapp_template), and who else is
 * viewing a chat.
 */
import { z } from 'zod';
import type { ChatService } from '../actors/chat/chat-service.ts';
import type { PresenceStore } from '../actors/chat/presence-store.ts';
import { contactCardMessage, ctaUrlMessage, documentMessage, imageMessage, listMessage, replyButtonsMessage, videoMessage, type CloudMessage } from '../domain/messages.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { messageView, okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRouter } from './http.ts';
import { idempotencyKey } from './outbound.routes.ts';
import { validate } from './validate.ts';

const chatIdParam = z.string().min(1).max(64).describe('the chat id');
const link = z.url({ protocol: /^https?$/ }).max(2000).describe('a public http(s) link WhatsApp downloads the file from');
const short = (max: number) => z.string().trim().min(1).max(max);
const layout = { header: short(60).optional(), footer: short(60).optional() };

/** One message to send, by `type`; the builders check WhatsApp's limits (lengths in code points) and answer VALIDATION_FAILED naming the field. */
export const consoleMessageBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('image'), link, caption: short(1024).optional() }),
  z.strictObject({ type: z.literal('video'), link, caption: short(1024).optional() }),
  z.strictObject({ type: z.literal('audio'), link }),
  z.strictObject({ type: z.literal('document'), link, caption: short(1024).optional(), filename: short(240).optional() }),
  z.strictObject({ type: z.literal('buttons'), body: short(1024), buttons: z.array(z.strictObject({ id: short(256), title: short(20) })).min(1).max(3), ...layout }),
  z.strictObject({
    type: z.literal('list'), body: short(1024), button: short(20),
    rows: z.array(z.strictObject({ id: short(200), title: short(24), description: short(72).optional() })).min(1).max(10),
    ...layout,
  }),
  z.strictObject({ type: z.literal('cta_url'), body: short(1024), display_text: short(20), url: link, ...layout }),
  z.strictObject({ type: z.literal('contact_card') }),
]);
export type ConsoleMessage = z.infer<typeof consoleMessageBody>;

/** The Cloud API message and the one-line text the chat list and history show for it. */
export function buildConsoleMessage(m: ConsoleMessage): { cloud: CloudMessage; text: string } {
  const opts = (v: { header?: string | undefined; footer?: string | undefined }) => ({ ...(v.header ? { header: v.header } : {}), ...(v.footer ? { footer: v.footer } : {}) });
  switch (m.type) {
    case 'image':
      return { cloud: imageMessage({ link: m.link }, m.caption), text: m.caption ?? 'Image' };
    case 'video':
      return { cloud: videoMessage({ link: m.link }, m.caption), text: m.caption ?? 'Video' };
    case 'audio':
      // No builder of its own (no caption, no file name): the Cloud API's audio object is just the link.
      return { cloud: { type: 'audio', audio: { link: m.link } }, text: 'Audio' };
    case 'document':
      return { cloud: documentMessage({ link: m.link }, { ...(m.caption ? { caption: m.caption } : {}), ...(m.filename ? { filename: m.filename } : {}) }), text: m.caption ?? m.filename ?? 'Document' };
    case 'buttons':
      return { cloud: replyButtonsMessage(m.body, m.buttons, opts(m)), text: m.body };
    case 'list':
      return { cloud: listMessage(m.body, m.button, [{ rows: m.rows }], opts(m)), text: m.body };
    case 'cta_url':
      return { cloud: ctaUrlMessage(m.body, m.display_text, m.url, opts(m)), text: m.body };
    case 'contact_card':
      return { cloud: contactCardMessage(), text: 'Contact card: OneWay.Cab Support' };
  }
}

export function registerConsoleChatRoutes(router: HttpRouter, deps: { chats: ChatService; presence: PresenceStore; auth: Authenticator }): void {
  // Repeat it with the same Idempotency-Key (or X-Request-Id) and it is sent once.
  router.post('/api/console/chats/:chat_id/messages', async (req) => {
    const agent = await authenticate(req, deps.auth);
    const chatId = validate(chatIdParam, req.params[0] ?? '');
    const given = req.headers['idempotency-key'];
    const requestId = given === undefined ? req.reqId : validate(idempotencyKey, given);
    const { cloud, text } = buildConsoleMessage(validate(consoleMessageBody, req.json()));
    const message = await deps.chats.sendAgentMessage(agent.sub, chatId, text, `console:${requestId}`, { kind: String(cloud.type), text, extra: { cloud } });
    return { json: { status: 1, data: { message } } };
  });

  router.get('/api/console/chats/:chat_id/viewers', async (req) => {
    await authenticate(req, deps.auth);
    const chatId = validate(chatIdParam, req.params[0] ?? '');
    return { json: { status: 1, data: { chat_id: chatId, viewers: await deps.presence.viewers(chatId) } } };
  });
}

export const consoleChatRouteDocs: RouteDoc[] = [
  {
    method: 'post', path: '/api/console/chats/{chat_id}/messages', tags: ['outbound'], auth: 'agent',
    summary: 'Send a built message to the chat\'s customer: image, video, audio or document by link, reply buttons, list, link button, contact card',
    description: 'Stored in the chat, pushed to its room and sent through the outbox like a `send_message` reply (the same 24-hour rule: 409 OUTSIDE_SERVICE_WINDOW outside it). Repeated with the same Idempotency-Key (or X-Request-Id) it is sent once.',
    params: { chat_id: { schema: chatIdParam } },
    headers: { 'idempotency-key': { schema: idempotencyKey, description: 'repeat-safe key; defaults to the request id' } },
    body: consoleMessageBody,
    responses: { 200: { description: 'The message, recorded on the chat and queued for sending', schema: okBody({ data: z.object({ message: messageView }) }) } },
    errors: ['NOT_FOUND', 'OUTSIDE_SERVICE_WINDOW'],
  },
  {
    method: 'get', path: '/api/console/chats/{chat_id}/viewers', tags: ['dashboard'], auth: 'agent',
    summary: 'The agents whose dashboards have joined this chat\'s room (presence, every pod)',
    params: { chat_id: { schema: chatIdParam } },
    responses: { 200: { description: 'Agent identities, each once', schema: okBody({ data: z.object({ chat_id: z.string(), viewers: z.array(z.string()) }) }) } },
    errors: ['VALIDATION_FAILED'],
  },
];
