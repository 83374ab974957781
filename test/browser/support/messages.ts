import { deflateSync } from 'node:zlib';

/** Meta webhooks carrying any message type (the shapes of test/fixtures/webhooks), from a given number, stamped now. */
let counter = 0;

export function messageWebhook(from: string, message: Record<string, unknown>, opts: { name?: string; at?: number } = {}): object {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: '104996122399160',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '918000247247', phone_number_id: '110443728651229' },
          contacts: [{ profile: { name: opts.name ?? 'Test Customer' }, wa_id: from }],
          messages: [{ from, id: `wamid.console.${Date.now()}.${++counter}`, timestamp: String(Math.floor((opts.at ?? Date.now()) / 1000)), ...message }],
        },
      }],
    }],
  };
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer) => {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A `width`×`height` RGB PNG with a gradient, as the fake Pinbot's media download answers it. */
export function gradientPng(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) rows.set([40 + (x * 180) / width, 90 + (y * 120) / height, 200], o + 1 + x * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
