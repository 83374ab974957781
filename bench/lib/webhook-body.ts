/**
 * Realistic Meta text webhooks (the shape of test/support/webhooks.ts
 * `textWebhook`) as byte templates: the message id and the customer number
 * are fixed-width digit fields rewritten per request, so a load generator can
 * send millions of distinct webhooks without building JSON per request.
 */

export const CUSTOMER_CHANNEL = '8000247247';
export const WEBHOOK_PATH = `/api/chats/whatsapp_chat/${CUSTOMER_CHANNEL}`;

const CUSTOMER_DIGITS = 'CCCCCCCC';
const ID_DIGITS = 'IIIIIIIIIIII';
const TEXT_DIGITS = 'TTTTTTTTTTTT';

/** National number of the i-th benchmark customer (10 digits, starts with 98). */
export const benchCustomer = (i: number): string => `98${String(i).padStart(8, '0')}`;

/** The webhook body with `CCCCCCCC` (customer), `IIII…` (message id) and `TTTT…` (text tag) fields. */
export function webhookTemplate(runTag: string, at = Date.now()): string {
  const from = `9198${CUSTOMER_DIGITS}`;
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '918000247247', phone_number_id: '106540352242922' },
          contacts: [{ profile: { name: 'Bench Customer' }, wa_id: from }],
          messages: [{ from, id: `wamid.bench.${runTag}.${ID_DIGITS}`, timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: `Need a cab from Ahmedabad to Rajkot tomorrow at 7, ref ${TEXT_DIGITS}` } }],
        },
      }],
    }],
  });
}

/** Byte offsets of every digit field in a buffer made from a template. */
export interface FieldOffsets {
  customer: number[];
  id: number[];
  text: number[];
}

export function fieldOffsets(buf: Buffer): FieldOffsets {
  const find = (marker: string) => {
    const out: number[] = [];
    for (let i = buf.indexOf(marker); i >= 0; i = buf.indexOf(marker, i + marker.length)) out.push(i);
    return out;
  };
  return { customer: find(CUSTOMER_DIGITS), id: find(ID_DIGITS), text: find(TEXT_DIGITS) };
}

/** Writes `value` as zero-padded decimal into `width` bytes at each offset. */
export function writeDigits(buf: Buffer, offsets: readonly number[], value: number, width: number): void {
  for (const at of offsets) {
    let v = value;
    for (let i = width - 1; i >= 0; i--) {
      buf[at + i] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
}

/** A complete HTTP/1.1 POST of `body` to `path` (keep-alive). */
export function httpPost(path: string, body: string): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`), b]);
}

/** Stamps request `n` (customer `n % customers`) into a copy of the request template. */
export function stamp(template: Buffer, offsets: FieldOffsets, n: number, customers: number): Buffer {
  const out = Buffer.allocUnsafe(template.length);
  template.copy(out);
  writeDigits(out, offsets.customer, n % customers, 8);
  writeDigits(out, offsets.id, n, 12);
  writeDigits(out, offsets.text, n, 12);
  return out;
}
