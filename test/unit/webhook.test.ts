import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  MAX_BUTTON_PAYLOAD, MAX_CONTACT_CARDS, MAX_CONTACTS_JSON, MAX_EMOJI, MAX_EVENTS, MAX_FUTURE_SKEW_MS, MAX_MEDIA_ID, MAX_MEDIA_URL,
  MAX_MESSAGE_ID, MAX_MIME_TYPE, MAX_PHONE, MAX_REPLY_ID, MAX_SHA256, MAX_STATUS_ERRORS, MAX_TEXT, parseWebhook, type WebhookEvent,
} from '../../src/domain/webhook.ts';

// CI copies shared/ beside the repository clone, so this path holds there too.
const metaFixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/fixtures/whatsapp', name), 'utf8'));
const fixture = (name: string): any =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/webhooks', name), 'utf8'));

function events(body: unknown, now?: number): WebhookEvent[] {
  const r = parseWebhook(body, now);
  assert.ok(r.ok, `expected a valid webhook, got: ${r.ok ? '' : r.reason}`);
  return r.events;
}

function reason(body: unknown): string {
  const r = parseWebhook(body);
  assert.equal(r.ok, false, 'expected the body to be rejected');
  return r.ok ? '' : r.reason;
}

const at = (seconds: number) => new Date(seconds * 1000);
const wamid = (n: number) => `wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgg${n}QkE4NzE2RTQzNkY5RjRBNjk3RTIA`;
const outWamid = (tag: string) => `wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgS${tag}MjQ0RDMxOUQ4NTdFRUQ0NwA=`;
/** The fields every synthesized message from Ravi shares. */
const fromRavi = (n: number, businessNumber: string) => ({
  kind: 'message' as const,
  waMessageId: wamid(n),
  from: '9876543210',
  waFrom: '919876543210',
  name: 'Ravi Kumar',
  timestamp: at(1750000000 + n),
  businessNumber,
});
const PARTNER = '919099039188';
const CUSTOMER = '919638106888';

/** A minimal valid body around the given messages and statuses. */
const wrap = (value: Record<string, unknown>) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '104996122399160', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', ...value } }] }],
});
const textMessage = (n: number, body: string, from = '919876543210') =>
  ({ from, id: wamid(n), timestamp: String(1750000000 + n), type: 'text', text: { body } });

describe('webhook parsing: Meta examples', () => {
  it('reads a text message with the sender name, its stored number and the business number', () => {
    assert.deepEqual(events(metaFixture('inbound-text.json')), [{
      kind: 'message',
      waMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      from: '16505551234',
      waFrom: '16505551234',
      name: 'Sheena Nelson',
      timestamp: at(1749416383),
      type: 'text',
      text: 'Does it come in another color?',
      businessNumber: '15550783881',
    }]);
  });

  it('reads an image with its media metadata and uses the caption as text', () => {
    assert.deepEqual(events(metaFixture('inbound-image.json')), [{
      kind: 'message',
      waMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      from: '16505551234',
      waFrom: '16505551234',
      name: 'Sheena Nelson',
      timestamp: at(1744344496),
      type: 'image',
      text: 'Taj Mahal',
      media: {
        type: 'image',
        id: '1003383421387256',
        mimeType: 'image/jpeg',
        sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=',
        caption: 'Taj Mahal',
        url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...',
      },
      businessNumber: '15550783881',
    }]);
  });

  it('reads an interactive button reply with its reply id, title and reply context', () => {
    assert.deepEqual(events(metaFixture('inbound-interactive-button-reply.json')), [{
      kind: 'message',
      waMessageId: 'wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQThBREYwNzc2RDc2QjA1QTIwMgA=',
      from: '16505551234',
      waFrom: '16505551234',
      name: 'Pablo Morales',
      timestamp: at(1714510003),
      type: 'interactive',
      text: 'Change',
      interactiveReplyId: 'change-button',
      interactiveType: 'button_reply',
      context: { from: '15550783881', id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA' },
      businessNumber: '15550783881',
    }]);
  });

  it('reads a delivered status as an update of the outbound message it refers to', () => {
    assert.deepEqual(events(metaFixture('inbound-status-delivered.json')), [{
      kind: 'status',
      waMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA',
      status: 'delivered',
      recipient: '16505551234',
      timestamp: at(1750263773),
    }]);
  });
});

describe('webhook parsing: every message type', () => {
  it('reads a template quick-reply button with its text and payload', () => {
    assert.deepEqual(events(fixture('button.json')), [{
      ...fromRavi(1, '919638120888'),
      type: 'button',
      text: 'Yes, Send Discount Code',
      buttonPayload: 'Yes, Send Discount Code',
      context: { from: '919638120888', id: outWamid('QTFB') },
    }]);
  });

  it('reads a list reply with the row id and title, keeping ₹ in the title', () => {
    assert.deepEqual(events(fixture('interactive-list-reply.json')), [{
      ...fromRavi(2, CUSTOMER),
      type: 'interactive',
      text: 'Pune to Mumbai',
      interactiveReplyId: 'route-pune-mumbai',
      interactiveType: 'list_reply',
      context: { from: CUSTOMER, id: outWamid('QjJD') },
    }]);
  });

  it('reads a video, a voice note, a document and a sticker as media', () => {
    assert.deepEqual(events(fixture('video.json')), [{
      ...fromRavi(3, PARTNER),
      type: 'video',
      text: 'Car ka dent dekhiye',
      media: { type: 'video', id: '1184732096543210', mimeType: 'video/mp4', sha256: 'q8V7x2m3nJ0pB9fT4cK1sW6yR5uE2hL8dA3gZ7vN0iM=', caption: 'Car ka dent dekhiye' },
    }]);
    assert.deepEqual(events(fixture('audio.json')), [{
      ...fromRavi(4, PARTNER),
      type: 'audio',
      text: '',
      media: { type: 'audio', id: '2049385716243098', mimeType: 'audio/ogg; codecs=opus', sha256: 'Xb4nQ9kLm2Pz7Rt1Wv5Yc8Hd3Fg6Js0Ae9Ku4Ni2Ox8=' },
    }]);
    assert.deepEqual(events(fixture('document.json')), [{
      ...fromRavi(5, PARTNER),
      type: 'document',
      text: 'RC book',
      media: {
        type: 'document', id: '1730492865107234', mimeType: 'application/pdf',
        sha256: 'Lm3Kp8Qr1Tz6Vw9Xy2Ab5Cd7Ef0Gh4Ij8Kl1Mn3Op6=', caption: 'RC book', filename: 'RC_MH12AB1234.pdf',
      },
    }]);
    assert.deepEqual(events(fixture('sticker.json')), [{
      ...fromRavi(6, CUSTOMER),
      type: 'sticker',
      text: '',
      media: { type: 'sticker', id: '876543219012345', mimeType: 'image/webp', sha256: 'Rs7Tu2Vw5Xy8Za1Bc4De7Fg0Hi3Jk6Lm9No2Pq5Rs8=' },
    }]);
  });

  it('reads a location as "name, address (lat,lng)" and keeps the coordinates', () => {
    assert.deepEqual(events(fixture('location.json')), [{
      ...fromRavi(7, PARTNER),
      type: 'location',
      text: 'Chhatrapati Shivaji Maharaj International Airport, Terminal 2, Andheri East, Mumbai 400099 (19.0974,72.8745)',
      location: {
        latitude: 19.0974, longitude: 72.8745,
        name: 'Chhatrapati Shivaji Maharaj International Airport', address: 'Terminal 2, Andheri East, Mumbai 400099',
      },
    }]);
  });

  it('reads a shared pin without name or address as just its coordinates', () => {
    const body = wrap({ messages: [{ ...textMessage(1, ''), type: 'location', text: undefined, location: { latitude: 18.5204, longitude: 73.8567 } }] });
    const [e] = events(body);
    assert.equal(e?.kind === 'message' && e.text, '(18.5204,73.8567)');
    assert.deepEqual(e?.kind === 'message' && e.location, { latitude: 18.5204, longitude: 73.8567 });
  });

  it('reads shared contact cards as their names and keeps the cards as sent', () => {
    const body = fixture('contacts.json');
    assert.deepEqual(events(body), [{
      ...fromRavi(8, CUSTOMER),
      type: 'contacts',
      text: 'Sunita Patil, Amit Shah',
      contacts: body.entry[0].changes[0].value.messages[0].contacts,
    }]);
  });

  it('reads a reaction with the emoji and the message it reacts to', () => {
    assert.deepEqual(events(fixture('reaction.json')), [{
      ...fromRavi(9, PARTNER),
      type: 'reaction',
      text: '👍',
      reaction: { messageId: outWamid('RDRF'), emoji: '👍' },
    }]);
  });

  it('reads a removed reaction, which comes without an emoji, as an empty emoji', () => {
    const body = fixture('reaction.json');
    delete body.entry[0].changes[0].value.messages[0].reaction.emoji;
    const [e] = events(body);
    assert.deepEqual(e?.kind === 'message' && e.reaction, { messageId: outWamid('RDRF'), emoji: '' });
    assert.equal(e?.kind === 'message' && e.text, '');
  });

  it('reads an unsupported message, errors and all, as type unsupported with no text', () => {
    assert.deepEqual(events(fixture('unsupported.json')), [{ ...fromRavi(10, CUSTOMER), type: 'unsupported', text: '' }]);
  });

  it('maps message types it does not know to unsupported', () => {
    const body = wrap({ messages: [{ from: '919876543210', id: wamid(1), timestamp: '1750000001', type: 'order', order: { catalog_id: '1', product_items: [] } }] });
    const [e] = events(body);
    assert.equal(e?.kind === 'message' && e.type, 'unsupported');
    assert.equal(e?.kind === 'message' && e.text, '');
  });

  it('keeps an interactive message of another subtype without a reply to act on', () => {
    const body = wrap({ messages: [{
      from: '919876543210', id: wamid(1), timestamp: '1750000001', type: 'interactive',
      interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{}' } },
    }] });
    const [e] = events(body);
    assert.equal(e?.kind === 'message' && e.type, 'interactive');
    assert.equal(e?.kind === 'message' && e.interactiveReplyId, undefined);
  });
});

describe('webhook parsing: statuses', () => {
  it('reads sent, read and failed statuses, with the failure errors', () => {
    const status = (tag: string, s: string) => ({ kind: 'status', waMessageId: outWamid(tag), status: s, recipient: '9876543210', timestamp: at(1750000100) });
    assert.deepEqual(events(fixture('status-sent.json')), [status('RTVG', 'sent')]);
    assert.deepEqual(events(fixture('status-read.json')), [status('RjZH', 'read')]);
    assert.deepEqual(events(fixture('status-failed.json')), [{
      ...status('RzdI', 'failed'),
      errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message' }],
    }]);
  });

  it('takes the error details as the message when an error has no message', () => {
    const body = fixture('status-failed.json');
    const error = body.entry[0].changes[0].value.statuses[0].errors[0];
    delete error.message;
    const [e] = events(body);
    assert.deepEqual(e?.kind === 'status' && e.errors, [{ code: 131047, title: 'Re-engagement message', message: error.error_data.details }]);
  });

  it('skips statuses it does not track, such as deleted and warning', () => {
    const status = (s: string) => ({ id: outWamid('QQ'), status: s, timestamp: '1750000100', recipient_id: '919876543210' });
    assert.deepEqual(events(wrap({ statuses: [status('deleted'), status('warning')] })), []);
  });
});

describe('webhook parsing: bodies with several events', () => {
  it('reads several messages in order, naming each sender by wa_id and keeping Hindi, emoji and ₹', () => {
    assert.deepEqual(events(fixture('several-messages.json')), [
      { ...fromRavi(11, PARTNER), type: 'text', text: 'नमस्ते, मेरा पेमेंट ₹1,499 अभी तक नहीं आया 🙏' },
      {
        ...fromRavi(12, PARTNER), from: '9812345678', waFrom: '919812345678', name: 'प्रिया शर्मा',
        type: 'text', text: 'Pune to Mumbai Airport @ ₹2199 😊🚕',
      },
      {
        ...fromRavi(13, PARTNER), type: 'image', text: '',
        media: { type: 'image', id: '1122334455667788', mimeType: 'image/jpeg', sha256: 'Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4=' },
      },
    ]);
  });

  it('reads several entries and changes in order, ignoring other webhook fields', () => {
    const got = events(fixture('several-entries.json'));
    assert.deepEqual(got.map((e) => [e.kind, e.waMessageId, e.kind === 'status' ? e.status : e.text]), [
      ['message', wamid(14), 'Gaadi MH12 AB 1234 service mein hai'],
      ['status', outWamid('SDhJ'), 'delivered'],
      ['status', outWamid('SThK'), 'read'],
      ['message', wamid(15), 'ok thanks'],
    ]);
    assert.deepEqual(got.map((e) => (e.kind === 'message' ? [e.from, e.name, e.businessNumber] : [e.recipient])), [
      ['9988776655', 'Suresh Yadav', '919726724247'],
      ['9876543210'],
      ['9876543210'],
      ['9876543210', 'Ravi Kumar', PARTNER],
    ]);
  });

  it('names a sender by the first contact when no contact has their wa_id', () => {
    const [e] = events(wrap({ contacts: [{ profile: { name: 'Ravi' }, wa_id: '919000000000' }], messages: [textMessage(1, 'hi')] }));
    assert.equal(e?.kind === 'message' && e.name, 'Ravi');
  });

  it('leaves the name out when the webhook carries no contacts', () => {
    const [e] = events(wrap({ messages: [textMessage(1, 'hi')] }));
    assert.ok(e?.kind === 'message' && !('name' in e));
  });

  it('accepts a webhook with no messages and no statuses as zero events', () => {
    assert.deepEqual(events({ object: 'whatsapp_business_account', entry: [] }), []);
    assert.deepEqual(events(wrap({ metadata: { display_phone_number: PARTNER, phone_number_id: '1' } })), []);
    assert.deepEqual(events(wrap({ errors: [{ code: 131000, title: 'Something went wrong', message: 'Something went wrong' }] })), []);
    assert.deepEqual(events({ entry: [{ id: '1', changes: [{ field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } }] }] }), []);
  });

  it('treats a change without a field as a messages change', () => {
    const [e] = events({ entry: [{ changes: [{ value: { messages: [textMessage(1, 'hi')] } }] }] });
    assert.equal(e?.kind === 'message' && e.text, 'hi');
  });

  it(`accepts ${MAX_EVENTS} events and rejects a body with more`, () => {
    const many = (n: number) => wrap({ messages: Array.from({ length: n }, (_, i) => textMessage(i, `m${i}`)) });
    assert.equal(events(many(MAX_EVENTS)).length, MAX_EVENTS);
    assert.equal(reason(many(MAX_EVENTS + 1)), 'too many events');
    const split = { entry: [many(60).entry[0], many(41).entry[0]] };
    assert.equal(reason(split), 'too many events');
  });
});

describe('webhook parsing: limits and rejections', () => {
  it(`truncates text to ${MAX_TEXT} characters without splitting an emoji`, () => {
    const [plain] = events(wrap({ messages: [textMessage(1, 'a'.repeat(MAX_TEXT + 10))] }));
    assert.equal(plain?.kind === 'message' && plain.text, 'a'.repeat(MAX_TEXT));
    const [emoji] = events(wrap({ messages: [textMessage(1, `${'a'.repeat(MAX_TEXT - 1)}😊tail`)] }));
    assert.equal(emoji?.kind === 'message' && emoji.text, 'a'.repeat(MAX_TEXT - 1));
  });

  it('rejects bodies that are not webhooks with a reason naming the path', () => {
    const cases: [unknown, string][] = [
      [null, 'body: expected an object'],
      [[], 'body: expected an object'],
      ['{"entry":[]}', 'body: expected an object'],
      [{}, 'entry: expected an array'],
      [{ entry: {} }, 'entry: expected an array'],
      [{ entry: [{ id: '1' }] }, 'entry[0].changes: expected an array'],
      [{ entry: [{ changes: [{ field: 'messages' }] }] }, 'entry[0].changes[0].value: expected an object'],
      [wrap({ messages: {} }), 'entry[0].changes[0].value.messages: expected an array'],
      [wrap({ messages: [42] }), 'entry[0].changes[0].value.messages[0]: expected an object'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), id: '' }] }), 'entry[0].changes[0].value.messages[0].id: expected a non-empty string'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), timestamp: 'yesterday' }] }), 'entry[0].changes[0].value.messages[0].timestamp: expected unix seconds'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), text: undefined }] }), 'entry[0].changes[0].value.messages[0].text: expected an object'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), type: 'image', text: undefined, image: { caption: 'no id' } }] }), 'entry[0].changes[0].value.messages[0].image.id: expected a string'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), type: 'location', location: { latitude: 100, longitude: 0 } }] }), 'entry[0].changes[0].value.messages[0].location.latitude: out of range'],
      [wrap({ messages: [{ ...textMessage(1, 'x'), type: 'interactive', interactive: { type: 'list_reply' } }] }), 'entry[0].changes[0].value.messages[0].interactive.list_reply: expected an object'],
      [wrap({ statuses: [{ id: 'w', status: 'read', timestamp: '1', recipient_id: 'nobody' }] }), 'entry[0].changes[0].value.statuses[0].recipient_id: expected a phone number'],
    ];
    for (const [body, expected] of cases) assert.equal(reason(body), expected, JSON.stringify(body));
  });

  it('rejects the whole body when one message comes from something that is not a phone number', () => {
    const body = wrap({ messages: [textMessage(1, 'fine'), textMessage(2, 'bad', 'not-a-number')] });
    assert.equal(reason(body), 'entry[0].changes[0].value.messages[1].from: expected a phone number');
  });

  it('never throws, whatever the body', () => {
    const junk: unknown[] = [
      undefined, null, 0, -1, NaN, true, '', 'entry', [], [[]], {}, { entry: null }, { entry: [null] }, { entry: [[]] },
      { entry: [{ changes: null }] }, { entry: [{ changes: [null] }] }, { entry: [{ changes: [{ value: [] }] }] },
      { entry: [{ changes: [{ value: { messages: [null, 1, 'x'] } }] }] },
      { entry: [{ changes: [{ value: { statuses: [{ status: 5 }] } }] }] },
      Object.create(null), new Date(), new Map(), Symbol('x'), () => 1, BigInt(1),
      { get entry() { throw new Error('boom'); } },
    ];
    for (const body of junk) {
      const r = parseWebhook(body);
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok) assert.match(r.reason, /\S/);
    }

    // Mutate every fixture at random places with random junk.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const junkValues = [null, undefined, 0, -5, 1e308, '', 'x', '☃', [], {}, [null], { a: 1 }, true];
    const mutate = (v: any, depth = 0): any => {
      if (v === null || typeof v !== 'object') return random() < 0.15 ? pick(junkValues) : v;
      if (random() < 0.05 && depth > 0) return pick(junkValues);
      const copy: any = Array.isArray(v) ? [] : {};
      for (const [k, x] of Object.entries(v)) copy[k] = mutate(x, depth + 1);
      if (random() < 0.05) copy[pick(['extra', 'type', 'id', 'from'])] = pick(junkValues);
      return copy;
    };
    const bodies = [
      ...['inbound-text.json', 'inbound-image.json', 'inbound-interactive-button-reply.json', 'inbound-status-delivered.json'].map(metaFixture),
      ...['button.json', 'contacts.json', 'location.json', 'several-entries.json', 'status-failed.json', 'unsupported.json'].map(fixture),
    ];
    for (let i = 0; i < 500; i++) {
      const r = parseWebhook(mutate(pick(bodies)));
      assert.equal(typeof r.ok, 'boolean');
    }
  });
});

describe('webhook parsing: every string bounded', () => {
  const M = 'entry[0].changes[0].value.messages[0]';
  const S = 'entry[0].changes[0].value.statuses[0]';
  const message = (extra: Record<string, unknown>) => wrap({ messages: [{ ...textMessage(1, 'x'), ...extra }] });
  const media = (image: Record<string, unknown>) => message({ type: 'image', text: undefined, image: { id: '1003383421387256', ...image } });
  const reply = (type: 'button_reply' | 'list_reply', id: string) =>
    message({ type: 'interactive', text: undefined, interactive: { type, [type]: { id, title: 'Yes' } } });
  const status = (extra: Record<string, unknown>) =>
    wrap({ statuses: [{ id: outWamid('QQ'), status: 'read', timestamp: '1750000100', recipient_id: '919876543210', ...extra }] });
  const long = (n: number) => 'a'.repeat(n + 1);
  /** A phone number padded with spaces: normalizes to a valid number, yet it is stored as sent (`waFrom`). */
  const paddedPhone = `${' '.repeat(MAX_PHONE)}919876543210`;

  it('refuses a body whose id, payload, phone number or media metadata is longer than the Cloud API produces, naming the path', () => {
    const cases: [unknown, string][] = [
      [message({ id: long(MAX_MESSAGE_ID) }), `${M}.id: longer than ${MAX_MESSAGE_ID} characters`],
      [message({ from: paddedPhone }), `${M}.from: longer than ${MAX_PHONE} characters`],
      [message({ context: { from: '919638120888', id: long(MAX_MESSAGE_ID) } }), `${M}.context.id: longer than ${MAX_MESSAGE_ID} characters`],
      [message({ context: { from: paddedPhone, id: wamid(2) } }), `${M}.context.from: longer than ${MAX_PHONE} characters`],
      [message({ type: 'reaction', text: undefined, reaction: { message_id: long(MAX_MESSAGE_ID), emoji: '👍' } }), `${M}.reaction.message_id: longer than ${MAX_MESSAGE_ID} characters`],
      [message({ type: 'reaction', text: undefined, reaction: { message_id: wamid(2), emoji: '👍'.repeat(MAX_EMOJI + 1) } }), `${M}.reaction.emoji: longer than ${MAX_EMOJI} characters`],
      [media({ id: long(MAX_MEDIA_ID) }), `${M}.image.id: longer than ${MAX_MEDIA_ID} characters`],
      [media({ mime_type: `image/${long(MAX_MIME_TYPE)}` }), `${M}.image.mime_type: longer than ${MAX_MIME_TYPE} characters`],
      [media({ sha256: long(MAX_SHA256) }), `${M}.image.sha256: longer than ${MAX_SHA256} characters`],
      [media({ url: `https://lookaside.fbsbx.com/?mid=${long(MAX_MEDIA_URL)}` }), `${M}.image.url: longer than ${MAX_MEDIA_URL} characters`],
      [reply('button_reply', long(MAX_REPLY_ID)), `${M}.interactive.button_reply.id: longer than ${MAX_REPLY_ID} characters`],
      [reply('list_reply', long(MAX_REPLY_ID)), `${M}.interactive.list_reply.id: longer than ${MAX_REPLY_ID} characters`],
      [message({ type: 'button', text: undefined, button: { text: 'Yes', payload: long(MAX_BUTTON_PAYLOAD) } }), `${M}.button.payload: longer than ${MAX_BUTTON_PAYLOAD} characters`],
      [status({ id: long(MAX_MESSAGE_ID) }), `${S}.id: longer than ${MAX_MESSAGE_ID} characters`],
      [status({ recipient_id: paddedPhone }), `${S}.recipient_id: longer than ${MAX_PHONE} characters`],
      [wrap({ metadata: { display_phone_number: long(MAX_PHONE) }, messages: [textMessage(1, 'x')] }), `entry[0].changes[0].value.metadata.display_phone_number: longer than ${MAX_PHONE} characters`],
    ];
    for (const [body, expected] of cases) assert.equal(reason(body), expected);
  });

  it('accepts each of those strings at exactly its cap, counting characters as WhatsApp does (an emoji is one)', () => {
    const exactly = (n: number) => 'a'.repeat(n);
    const [m] = events(message({ id: exactly(MAX_MESSAGE_ID), context: { from: '919638120888', id: exactly(MAX_MESSAGE_ID) } }));
    assert.equal(m?.waMessageId, exactly(MAX_MESSAGE_ID));
    assert.equal(m?.kind === 'message' && m.context?.id, exactly(MAX_MESSAGE_ID));
    const [img] = events(media({ id: exactly(MAX_MEDIA_ID), mime_type: exactly(MAX_MIME_TYPE), sha256: exactly(MAX_SHA256), url: exactly(MAX_MEDIA_URL) }));
    assert.deepEqual(img?.kind === 'message' && img.media, {
      type: 'image', id: exactly(MAX_MEDIA_ID), mimeType: exactly(MAX_MIME_TYPE), sha256: exactly(MAX_SHA256), url: exactly(MAX_MEDIA_URL),
    });
    const [btn] = events(reply('button_reply', '🙏'.repeat(MAX_REPLY_ID)));
    assert.equal(btn?.kind === 'message' && btn.interactiveReplyId, '🙏'.repeat(MAX_REPLY_ID));
    const [pressed] = events(message({ type: 'button', text: undefined, button: { text: 'Yes', payload: '₹'.repeat(MAX_BUTTON_PAYLOAD) } }));
    assert.equal(pressed?.kind === 'message' && pressed.buttonPayload, '₹'.repeat(MAX_BUTTON_PAYLOAD));
    const family = '👨‍👩‍👧‍👦'; // 7 code points, 11 UTF-16 units
    const [reacted] = events(message({ type: 'reaction', text: undefined, reaction: { message_id: wamid(2), emoji: family } }));
    assert.equal(reacted?.kind === 'message' && reacted.reaction?.emoji, family);
    const [st] = events(status({ id: exactly(MAX_MESSAGE_ID), recipient_id: '+91 98765-43210' }));
    assert.deepEqual(st?.kind === 'status' && [st.waMessageId, st.recipient], [exactly(MAX_MESSAGE_ID), '9876543210']);
  });

  it('clips over-long human text (captions, filenames, names, titles, addresses) instead of refusing it', () => {
    const huge = 'a'.repeat(MAX_TEXT + 100);
    const clipped = 'a'.repeat(MAX_TEXT);
    const [doc] = events(message({ type: 'document', text: undefined, document: { id: '1730492865107234', caption: huge, filename: huge } }));
    assert.deepEqual(doc?.kind === 'message' && [doc.text, doc.media?.caption, doc.media?.filename], [clipped, clipped, clipped]);
    const [named] = events(wrap({ contacts: [{ profile: { name: huge }, wa_id: '919876543210' }], messages: [textMessage(1, 'hi')] }));
    assert.equal(named?.kind === 'message' && named.name, clipped);
    const [titled] = events(message({ type: 'interactive', text: undefined, interactive: { type: 'list_reply', list_reply: { id: 'row-1', title: huge } } }));
    assert.equal(titled?.kind === 'message' && titled.text, clipped);
    const [placed] = events(message({ type: 'location', text: undefined, location: { latitude: 1, longitude: 2, name: huge, address: huge } }));
    assert.deepEqual(placed?.kind === 'message' && [placed.location?.name, placed.location?.address, placed.text.length], [clipped, clipped, MAX_TEXT]);
  });

  it(`keeps at most ${MAX_CONTACT_CARDS} contact cards and ${MAX_CONTACTS_JSON / 1024} KiB of them, the leading ones`, () => {
    const card = (n: number, extra: Record<string, unknown> = {}) => ({ name: { formatted_name: `Card ${n}` }, phones: [{ phone: '+91 98220 12345' }], ...extra });
    const many = Array.from({ length: MAX_CONTACT_CARDS + 5 }, (_, n) => card(n));
    const [m] = events(message({ type: 'contacts', text: undefined, contacts: many }));
    assert.deepEqual(m?.kind === 'message' && m.contacts, many.slice(0, MAX_CONTACT_CARDS));
    assert.equal(m?.kind === 'message' && m.text, many.slice(0, MAX_CONTACT_CARDS).map((c) => c.name.formatted_name).join(', '));

    const bulky = Array.from({ length: 5 }, (_, n) => card(n, { note: 'x'.repeat(MAX_CONTACTS_JSON / 3) }));
    const [b] = events(message({ type: 'contacts', text: undefined, contacts: bulky }));
    assert.deepEqual(b?.kind === 'message' && b.contacts, bulky.slice(0, 2));
    assert.ok(JSON.stringify(b?.kind === 'message' && b.contacts).length <= MAX_CONTACTS_JSON);
    assert.equal(b?.kind === 'message' && b.text, 'Card 0, Card 1');
  });

  it(`keeps at most ${MAX_STATUS_ERRORS} errors of a failed status`, () => {
    const errors = Array.from({ length: MAX_STATUS_ERRORS + 40 }, (_, n) => ({ code: n, title: 'Re-engagement message' }));
    const [e] = events(status({ status: 'failed', errors }));
    assert.deepEqual(e?.kind === 'status' && e.errors?.map((x) => x.code), errors.slice(0, MAX_STATUS_ERRORS).map((x) => x.code));
  });
});

describe('webhook parsing: timestamps', () => {
  const received = Date.parse('2026-11-28T10:00:00Z');
  const seconds = (ms: number) => String(Math.floor(ms / 1000));
  const message = (timestamp: string) => wrap({ messages: [{ ...textMessage(1, 'hi'), timestamp }] });
  const status = (timestamp: string) => wrap({ statuses: [{ id: outWamid('QQ'), status: 'read', timestamp, recipient_id: '919876543210' }] });

  it('takes a message or status timestamped a day ahead as received now', () => {
    const ahead = seconds(received + 24 * 3600_000);
    assert.deepEqual(events(message(ahead), received).map((e) => e.timestamp), [new Date(received)]);
    assert.deepEqual(events(status(ahead), received).map((e) => e.timestamp), [new Date(received)]);
    assert.deepEqual(events(message('999999999999'), received).map((e) => e.timestamp), [new Date(received)]);
  });

  it(`keeps a timestamp up to ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead, the clocks' allowed skew`, () => {
    for (const ahead of [60_000, MAX_FUTURE_SKEW_MS]) {
      const t = seconds(received + ahead);
      assert.deepEqual(events(message(t), received).map((e) => e.timestamp), [new Date(Number(t) * 1000)]);
      assert.deepEqual(events(status(t), received).map((e) => e.timestamp), [new Date(Number(t) * 1000)]);
    }
    assert.deepEqual(events(message(seconds(received + MAX_FUTURE_SKEW_MS + 1000)), received).map((e) => e.timestamp), [new Date(received)]);
  });

  it('keeps past timestamps, so the Meta examples parse unchanged when received at their own time', () => {
    for (const [name, at] of [['inbound-text.json', 1749416383], ['inbound-image.json', 1744344496], ['inbound-interactive-button-reply.json', 1714510003], ['inbound-status-delivered.json', 1750263773]] as const) {
      const body = metaFixture(name);
      assert.deepEqual(events(body, at * 1000), events(body), name);
      assert.deepEqual(events(body, at * 1000).map((e) => e.timestamp), [new Date(at * 1000)], name);
    }
  });
});
