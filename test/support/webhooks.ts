/** Realistic Meta webhook bodies for tests, built on the shared fixtures' shape. */
let counter = 0;

/** Meta's envelope around one inbound `message` from `from` (shown as `name`). */
function inboundWebhook(from: string, name: string, message: object): object {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '919638106888', phone_number_id: '106540352242922' },
          contacts: [{ profile: { name }, wa_id: from }],
          messages: [message],
        },
      }],
    }],
  };
}

export function textWebhook(from: string, text: string, opts: { name?: string; id?: string; at?: number } = {}): object {
  const id = opts.id ?? `wamid.test.${Date.now()}.${++counter}`;
  return inboundWebhook(from, opts.name ?? 'Test Customer', { from, id, timestamp: String(Math.floor((opts.at ?? Date.now()) / 1000)), type: 'text', text: { body: text } });
}

/** The customer's tap on a reply button, as Meta sends it (shared fixture inbound-interactive-button-reply.json). */
export function buttonReplyWebhook(from: string, replyId: string, title: string): object {
  return inboundWebhook(from, 'Test Customer', {
    context: { from: '919638106888', id: 'wamid.question' }, from, id: `wamid.tap.${from}.${replyId}`, timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: replyId, title } },
  });
}

export function statusWebhook(recipient: string, waMessageId: string, status: 'sent' | 'delivered' | 'read' | 'failed'): object {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '919638106888', phone_number_id: '1' }, statuses: [{ id: waMessageId, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient }] } }] }],
  };
}

export async function postWebhook(baseUrl: string, channel: string, body: object | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/api/chats/whatsapp_chat/${channel}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

/** Polls `check` until it returns a truthy value (or fails after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A customer's image (or other media `type`) with WhatsApp media id `mediaId`, as Meta sends it. */
export function mediaWebhook(from: string, mediaId: string, opts: { type?: 'image' | 'video' | 'audio' | 'document'; mimeType?: string; id?: string } = {}): object {
  const type = opts.type ?? 'image';
  const body = textWebhook(from, '', { id: opts.id ?? `wamid.media.${mediaId}.${++counter}` }) as { entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[] };
  const message = body.entry[0]!.changes[0]!.value.messages[0]!;
  delete message.text;
  message.type = type;
  message[type] = { mime_type: opts.mimeType ?? 'image/jpeg', sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=', id: mediaId };
  return body;
}
