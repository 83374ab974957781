/** The FR-7 builders against the WhatsApp Cloud API shapes of ../shared/fixtures/whatsapp, Unicode included. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  LIMITS,
  MessageBuildError,
  assertCloudMessage,
  charCount,
  contactCardMessage,
  ctaUrlMessage,
  documentMessage,
  imageMessage,
  listMessage,
  replyButtonsMessage,
  templateMessage,
  textMessage,
  videoMessage,
} from '../../src/domain/messages.ts';
import { toAppError } from '../../src/infra/errors.ts';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../shared/fixtures/whatsapp', name), 'utf8')) as Record<string, any>;

/** A fixture body without the envelope the outbox adds. */
function withoutEnvelope(body: Record<string, any>): Record<string, any> {
  const { messaging_product: _m, recipient_type: _r, to: _t, ...rest } = body;
  return rest;
}

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof MessageBuildError && pattern.test(e.message));

describe('message builders: Cloud API shapes', () => {
  it('text matches the published text message', () => {
    const f = withoutEnvelope(fixture('outbound-text.json'));
    assert.deepEqual(textMessage(f.text.body, { previewUrl: true }), f);
  });

  it('text defaults to no link preview and can quote the message it answers', () => {
    assert.deepEqual(textMessage('hello'), { type: 'text', text: { preview_url: false, body: 'hello' } });
    assert.deepEqual(textMessage('हाँ', { replyTo: 'wamid.ABC' }), { context: { message_id: 'wamid.ABC' }, type: 'text', text: { preview_url: false, body: 'हाँ' } });
  });

  it('reply buttons match the published interactive buttons message (text header instead of the image one)', () => {
    const f = withoutEnvelope(fixture('outbound-interactive-buttons.json'));
    const buttons = f.interactive.action.buttons.map((b: any) => ({ id: b.reply.id, title: b.reply.title }));
    const built = replyButtonsMessage(f.interactive.body.text, buttons, { footer: f.interactive.footer.text }) as any;
    const { header: _h, ...expected } = f.interactive;
    assert.deepEqual(built, { type: 'interactive', interactive: expected });
    const withHeader = replyButtonsMessage('Issue resolved?', [{ id: 'yes', title: 'Yes' }], { header: 'OneWay.Cab' }) as any;
    assert.deepEqual(withHeader.interactive.header, { type: 'text', text: 'OneWay.Cab' });
  });

  it('CTA URL matches the published cta_url message (text header instead of the image one)', () => {
    const f = withoutEnvelope(fixture('outbound-interactive-cta-url.json'));
    const p = f.interactive.action.parameters;
    const built = ctaUrlMessage(f.interactive.body.text, p.display_text, p.url, { footer: f.interactive.footer.text }) as any;
    const { header: _h, ...expected } = f.interactive;
    assert.deepEqual(built, { type: 'interactive', interactive: expected });
  });

  it('the contact card has the published contacts shape with OneWay.Cab support details', () => {
    const f = withoutEnvelope(fixture('outbound-contacts.json'));
    const built = contactCardMessage() as any;
    assert.equal(built.type, f.type);
    assert.equal(built.contacts.length, 1);
    const card = built.contacts[0];
    for (const key of ['name', 'org', 'emails', 'urls']) assert.ok(key in f.contacts[0] && key in card, key);
    assert.equal(typeof card.name.formatted_name, 'string');
    assert.equal(card.org.company, 'OneWay.Cab');
    assert.deepEqual(card.emails.map((e: any) => e.email), ['care@oneway.cab']);
    assert.deepEqual(card.urls.map((u: any) => u.url), ['https://oneway.cab/']);
    assert.doesNotThrow(() => assertCloudMessage(built));
  });

  it('templates: ask_issue_resolved in Hindi by default; dynamic body and button parameters', () => {
    assert.deepEqual(templateMessage('ask_issue_resolved'), { type: 'template', template: { name: 'ask_issue_resolved', language: { code: 'hi' } } });
    assert.deepEqual(
      templateMessage('trip_update', { language: 'en_US', bodyParams: ['Pune', '₹2,199'], buttonParams: [{ index: 0, subType: 'url', param: 'abc123' }, { index: 1, subType: 'quick_reply', param: 'STOP' }] }),
      {
        type: 'template',
        template: {
          name: 'trip_update',
          language: { code: 'en_US' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: 'Pune' }, { type: 'text', text: '₹2,199' }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'abc123' }] },
            { type: 'button', sub_type: 'quick_reply', index: '1', parameters: [{ type: 'payload', payload: 'STOP' }] },
          ],
        },
      },
    );
    refused(() => templateMessage('Ask Issue'), /name: lower-case/);
    refused(() => templateMessage('x', { language: 'hindi' }), /language/);
    refused(() => templateMessage('x', { buttonParams: [{ index: 0, subType: 'url', param: 'a' }, { index: 0, subType: 'url', param: 'b' }] }), /index at most once/);
  });

  it('list: sections and rows within WhatsApp limits', () => {
    const built = listMessage('Choose a route', 'Routes', [{ title: 'Mumbai', rows: [{ id: 'pm', title: 'Pune → Mumbai', description: '₹2199 · TRUST4111' }, { id: 'nm', title: 'Nashik → Mumbai' }] }], { footer: 'Inter-City Experts' });
    assert.deepEqual(built, {
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Choose a route' },
        footer: { text: 'Inter-City Experts' },
        action: { button: 'Routes', sections: [{ title: 'Mumbai', rows: [{ id: 'pm', title: 'Pune → Mumbai', description: '₹2199 · TRUST4111' }, { id: 'nm', title: 'Nashik → Mumbai' }] }] },
      },
    });
    const row = (i: number) => ({ id: `r${i}`, title: `Row ${i}` });
    refused(() => listMessage('b', 'Pick', [{ title: 'a', rows: Array.from({ length: 6 }, (_, i) => row(i)) }, { title: 'b', rows: Array.from({ length: 5 }, (_, i) => row(i + 6)) }]), /at most 10 rows in all \(got 11\)/);
    refused(() => listMessage('b', 'Pick', Array.from({ length: 11 }, (_, i) => ({ title: `s${i}`, rows: [row(i)] }))), /at most 10 sections/);
    refused(() => listMessage('b', 'Pick', [{ rows: [row(1)] }, { rows: [row(2)] }]), /needs a title/);
    refused(() => listMessage('b', 'Pick', [{ rows: [row(1), row(1)] }]), /row ids must be unique/);
    refused(() => listMessage('b', 'Pick', [{ rows: [{ id: 'x', title: 'y'.repeat(25) }] }]), /rows\.0\.title: at most 24 characters \(got 25\)/);
    refused(() => listMessage('b', 'Pick', [{ rows: [{ id: 'x', title: 'y', description: 'd'.repeat(73) }] }]), /description: at most 72/);
    refused(() => listMessage('b', 'A very long button text', [{ rows: [row(1)] }]), /buttonText: at most 20/);
    refused(() => listMessage('b', 'Pick', []), /at least 1 section/);
  });

  it('media: video, image and document by id or link, with caption and file name', () => {
    assert.deepEqual(videoMessage({ id: '1003383421387256' }, 'OneWay.Cab में आपका स्वागत है 🚕'), { type: 'video', video: { id: '1003383421387256', caption: 'OneWay.Cab में आपका स्वागत है 🚕' } });
    assert.deepEqual(imageMessage({ link: 'https://oneway.cab/offer.png' }), { type: 'image', image: { link: 'https://oneway.cab/offer.png' } });
    assert.deepEqual(documentMessage({ id: '42' }, { caption: 'Invoice', filename: 'invoice-₹2199.pdf' }), { type: 'document', document: { id: '42', caption: 'Invoice', filename: 'invoice-₹2199.pdf' } });
    refused(() => imageMessage({ link: 'ftp://x/y.png' }), /http\(s\) URL/);
    refused(() => imageMessage({ id: 'a', link: 'https://x' } as never), /image message/);
    refused(() => videoMessage({ id: '1' }, 'c'.repeat(LIMITS.caption + 1)), /caption: at most 1024/);
  });
});

describe('message builders: limits and Unicode', () => {
  it('counts characters as code points: Hindi, emoji and ₹ are one each, not UTF-16 units', () => {
    assert.equal(charCount('₹'), 1);
    assert.equal(charCount('🚕'), 1);
    assert.equal('🚕'.length, 2);
    assert.equal(charCount('हाँ जी'), 6);
    // 20 emoji are 40 UTF-16 units but 20 characters: a legal button title.
    const title = '🚕'.repeat(20);
    const built = replyButtonsMessage('कैब बुक करें? ₹ 2199', [{ id: 'taxi', title }]) as any;
    assert.equal(built.interactive.action.buttons[0].reply.title, title);
    refused(() => replyButtonsMessage('b', [{ id: 'taxi', title: '🚕'.repeat(21) }]), /title: at most 20 characters \(got 21\)/);
  });

  it('keeps Hindi, emoji and ₹ bodies byte for byte', () => {
    const body = 'नमस्ते 🙏 Pune से Mumbai Airport सिर्फ़ ₹2199 में! कोड: TRUST4111';
    assert.equal((textMessage(body) as any).text.body, body);
    assert.equal(JSON.parse(JSON.stringify(textMessage(body))).text.body, body);
    assert.equal(charCount('x'.repeat(LIMITS.textBody - 1) + '₹'), LIMITS.textBody);
    assert.doesNotThrow(() => textMessage('x'.repeat(LIMITS.textBody - 1) + '₹'));
    refused(() => textMessage('₹'.repeat(LIMITS.textBody + 1)), /at most 4096 characters \(got 4097\)/);
  });

  it('reply buttons: 1 to 3, titles of at most 20 characters, unique ids — each refused with a clear error', () => {
    const b = (id: string, title = id) => ({ id, title });
    refused(() => replyButtonsMessage('b', []), /at least 1 button/);
    refused(() => replyButtonsMessage('b', [b('1'), b('2'), b('3'), b('4')]), /at most 3 buttons/);
    refused(() => replyButtonsMessage('b', [b('1', 'Yes, Send Discount Code!')]), /buttons\.0\.title: at most 20 characters \(got 24\)/);
    refused(() => replyButtonsMessage('b', [b('same', 'A'), b('same', 'B')]), /button ids must be unique/);
    refused(() => replyButtonsMessage('b', [b('1', '   ')]), /must not be empty/);
    refused(() => replyButtonsMessage('b', [b('1')], { header: 'h'.repeat(61) }), /header: at most 60/);
  });

  it('refuses empty bodies, broken Unicode and non-http links', () => {
    refused(() => textMessage(''), /body: must not be empty/);
    refused(() => textMessage('half \ud83d emoji'), /unpaired surrogate/);
    refused(() => ctaUrlMessage('b', 'Open', 'javascript:alert(1)'), /url: expected an http\(s\) URL/);
    refused(() => ctaUrlMessage('b', 'Open the OneWay.Cab app', 'https://oneway.cab/app'), /displayText: at most 20/);
  });

  it('a build error reaches clients as VALIDATION_FAILED naming the field', () => {
    try {
      replyButtonsMessage('b', []);
      assert.fail('expected a MessageBuildError');
    } catch (err) {
      const e = toAppError(err);
      assert.equal(e.code, 'VALIDATION_FAILED');
      assert.match(e.message, /buttons/);
    }
  });

  it('the outbox check accepts built bodies and refuses envelopes and unknown types', () => {
    for (const m of [textMessage('a'), templateMessage('ask_issue_resolved'), imageMessage({ id: '1' }), contactCardMessage()]) assert.doesNotThrow(() => assertCloudMessage(m));
    refused(() => assertCloudMessage({ type: 'fax', fax: {} }), /unknown type/);
    refused(() => assertCloudMessage({ type: 'text' }), /needs a "text" object/);
    refused(() => assertCloudMessage({ ...textMessage('a'), to: '91' }), /"to" is added by the outbox/);
  });
});

describe('predefined responses (FR-7)', () => {
  it('has every key of the spec table, each a valid WhatsApp text', async () => {
    const { PREDEFINED_RESPONSES, predefinedResponse } = await import('../../src/domain/responses.ts');
    assert.deepEqual(Object.keys(PREDEFINED_RESPONSES).sort(), ['care_job', 'default', 'discount', 'textMsg', 'unlock_diya']);
    for (const text of Object.values(PREDEFINED_RESPONSES)) assert.doesNotThrow(() => textMessage(text));
    assert.equal(PREDEFINED_RESPONSES.textMsg, "Currently, we're supporting only text msg.");
    assert.match(PREDEFINED_RESPONSES.default, /^This is an automated number\. 24\*7 WhatsApp support/);
    assert.match(PREDEFINED_RESPONSES.unlock_diya, /PROMISE500/);
    assert.match(PREDEFINED_RESPONSES.discount, /TRUST4111/);
    assert.equal(predefinedResponse('no-such-key'), PREDEFINED_RESPONSES.default);
  });
});
