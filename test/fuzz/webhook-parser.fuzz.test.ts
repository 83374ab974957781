/**
 * Property-based tests of `parseWebhook` (src/domain/webhook.ts): whatever
 * arrives — arbitrary JSON, arbitrary JavaScript values with prototype-ish
 * keys, real fixtures mutated at random paths — it returns a result and never
 * throws, and what it accepts is bounded by the caps the module exports.
 * A failure prints its seed and shrunk counterexample; replay it with
 * FUZZ_SEED=<seed> (and FUZZ_PATH=<path>).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_BUTTON_PAYLOAD, MAX_CONTACT_CARDS, MAX_CONTACTS_JSON, MAX_EMOJI, MAX_EVENTS, MAX_FUTURE_SKEW_MS, MAX_MEDIA_ID, MAX_MEDIA_URL,
  MAX_MESSAGE_ID, MAX_MIME_TYPE, MAX_PHONE, MAX_REPLY_ID, MAX_SHA256, MAX_STATUS_ERRORS, MAX_TEXT, parseWebhook,
  type ParseResult, type WebhookEvent,
} from '../../src/domain/webhook.ts';
import {
  applyMutations, BUILT_IN_NAMES, clone, fuzzParams, hasLoneSurrogate, hostileString, mutatedFixture, mutation, oddNumber,
  placedMutations, toJsonText, WEBHOOK_FIXTURES, WEBHOOK_KEYS, type Placed,
} from '../support/fuzz-inputs.ts';

const RUNS = 300;
const TIME_LIMIT_MS = 3_000;

/** Events each real fixture carries (statuses we do not track, such as `deleted`, are not events). */
const EXPECTED_EVENTS: Record<string, number> = {
  'shared/inbound-image.json': 1,
  'shared/inbound-interactive-button-reply.json': 1,
  'shared/inbound-status-delivered.json': 1,
  'shared/inbound-text.json': 1,
  'webhooks/audio.json': 1,
  'webhooks/button.json': 1,
  'webhooks/contacts.json': 1,
  'webhooks/document.json': 1,
  'webhooks/interactive-list-reply.json': 1,
  'webhooks/location.json': 1,
  'webhooks/reaction.json': 1,
  'webhooks/several-entries.json': 4,
  'webhooks/several-messages.json': 3,
  'webhooks/status-failed.json': 1,
  'webhooks/status-read.json': 1,
  'webhooks/status-sent.json': 1,
  'webhooks/sticker.json': 1,
  'webhooks/unsupported.json': 1,
  'webhooks/video.json': 1,
};

const KINDS = ['text', 'button', 'interactive', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'reaction', 'unsupported'];
const STATUSES = ['sent', 'delivered', 'read', 'failed'];
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Runs the parser; a throw fails the property with the input's description. */
function parse(body: unknown): ParseResult {
  let r: ParseResult;
  try {
    r = parseWebhook(body);
  } catch (err) {
    assert.fail(`parseWebhook threw ${(err as Error)?.stack ?? String(err)}`);
  }
  return r;
}

/** Human text: at most MAX_TEXT UTF-16 units (the parser clips). */
function text(s: unknown, what: string): void {
  if (s === undefined) return;
  assert.equal(typeof s, 'string', `${what} is not a string`);
  assert.ok((s as string).length <= MAX_TEXT, `${what} is ${(s as string).length} UTF-16 units (MAX_TEXT ${MAX_TEXT})`);
}

/** Machine strings (ids, payloads, numbers, media metadata): at most `cap` code points (the parser refuses longer). */
function capped(s: unknown, cap: number, what: string, nonEmpty = false): void {
  if (s === undefined) return;
  assert.equal(typeof s, 'string', `${what} is not a string`);
  const n = [...(s as string)].length;
  assert.ok(n <= cap, `${what} is ${n} characters (cap ${cap})`);
  if (nonEmpty) assert.ok(n > 0, `${what} is empty`);
}

function assertEvent(e: WebhookEvent, i: number, receivedAt: number): void {
  const at = `events[${i}]`;
  assert.ok(e.timestamp instanceof Date && Number.isFinite(e.timestamp.getTime()), `${at}.timestamp is not a valid date`);
  assert.ok(e.timestamp.getTime() <= receivedAt + MAX_FUTURE_SKEW_MS, `${at}.timestamp ${e.timestamp.toISOString()} is in the future`);
  capped(e.waMessageId, MAX_MESSAGE_ID, `${at}.waMessageId`, true);
  if (e.kind === 'status') {
    assert.ok(STATUSES.includes(e.status), `${at}.status ${e.status}`);
    assert.match(e.recipient, /^\d{8,15}$/, `${at}.recipient`);
    assert.ok((e.errors ?? []).length <= MAX_STATUS_ERRORS, `${at}.errors: ${e.errors?.length} (cap ${MAX_STATUS_ERRORS})`);
    for (const [j, x] of (e.errors ?? []).entries()) {
      text(x.title, `${at}.errors[${j}].title`);
      text(x.message, `${at}.errors[${j}].message`);
    }
    return;
  }
  assert.equal(e.kind, 'message', `${at}.kind`);
  assert.match(e.from, /^\d{8,15}$/, `${at}.from`);
  capped(e.waFrom, MAX_PHONE, `${at}.waFrom`);
  capped(e.businessNumber, MAX_PHONE, `${at}.businessNumber`);
  assert.ok(KINDS.includes(e.type), `${at}.type ${e.type}`);
  text(e.text, `${at}.text`);
  text(e.name, `${at}.name`);
  capped(e.buttonPayload, MAX_BUTTON_PAYLOAD, `${at}.buttonPayload`);
  capped(e.interactiveReplyId, MAX_REPLY_ID, `${at}.interactiveReplyId`, true);
  capped(e.context?.from, MAX_PHONE, `${at}.context.from`);
  capped(e.context?.id, MAX_MESSAGE_ID, `${at}.context.id`);
  if (e.media) {
    capped(e.media.id, MAX_MEDIA_ID, `${at}.media.id`, true);
    capped(e.media.mimeType, MAX_MIME_TYPE, `${at}.media.mimeType`);
    capped(e.media.sha256, MAX_SHA256, `${at}.media.sha256`);
    capped(e.media.url, MAX_MEDIA_URL, `${at}.media.url`);
    text(e.media.caption, `${at}.media.caption`);
    text(e.media.filename, `${at}.media.filename`);
  }
  if (e.location) {
    assert.ok(Math.abs(e.location.latitude) <= 90 && Math.abs(e.location.longitude) <= 180, `${at}.location out of range`);
    text(e.location.name, `${at}.location.name`);
    text(e.location.address, `${at}.location.address`);
  }
  if (e.reaction) {
    capped(e.reaction.messageId, MAX_MESSAGE_ID, `${at}.reaction.messageId`, true);
    capped(e.reaction.emoji, MAX_EMOJI, `${at}.reaction.emoji`);
  }
  if (e.contacts) {
    assert.ok(e.contacts.length <= MAX_CONTACT_CARDS, `${at}.contacts: ${e.contacts.length} cards (cap ${MAX_CONTACT_CARDS})`);
    let size = 0;
    for (const c of e.contacts) {
      try {
        size += JSON.stringify(c ?? null)?.length ?? 0;
      } catch (err) {
        assert.fail(`${at}.contacts holds a card that does not serialize: ${(err as Error).message}`);
      }
    }
    assert.ok(size <= MAX_CONTACTS_JSON, `${at}.contacts: ${size} characters of JSON (cap ${MAX_CONTACTS_JSON})`);
  }
}

/** Every string in a JSON-like value (keys included). */
function strings(root: unknown): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        stack.push(x);
      }
    }
  }
  return out;
}

/**
 * The properties every result has: the `{ok, events}` / `{ok, reason}`
 * shape, events within MAX_EVENTS and their strings within the caps; for a
 * body that came from JSON, events that serialize, and well-formed text out
 * when the text in was well-formed; and no key of Object.prototype added.
 */
function assertResult(r: ParseResult, body: unknown, fromJson: boolean, receivedAt = Date.now()): void {
  assert.equal(typeof r, 'object');
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(','), PROTOTYPE_NAMES, 'Object.prototype changed');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype polluted');
  if (!r.ok) {
    assert.equal(r.ok, false);
    assert.equal(typeof r.reason, 'string');
    assert.ok(r.reason.length > 0, 'empty reason');
    return;
  }
  assert.ok(Array.isArray(r.events), 'events is not an array');
  assert.ok(r.events.length <= MAX_EVENTS, `${r.events.length} events (cap ${MAX_EVENTS})`);
  r.events.forEach((e, i) => assertEvent(e, i, receivedAt));
  if (!fromJson) return;
  assert.doesNotThrow(() => JSON.stringify(r.events), 'events do not serialize');
  if (!hasLoneSurrogate(body)) {
    const broken = strings(r.events).find((s) => !s.isWellFormed());
    assert.equal(broken, undefined, `a lone surrogate appeared in the events: ${JSON.stringify(broken?.slice(-20))}`);
  }
}

/** Places `x` where the parser will read it: the body, an entry, a change, a value, a message, a status. */
const atWebhookPosition = <T>(x: fc.Arbitrary<T>) => fc.oneof(
  x,
  x.map((v) => ({ object: 'whatsapp_business_account', entry: v })),
  x.map((v) => ({ entry: [v] })),
  x.map((v) => ({ entry: [{ changes: v }] })),
  x.map((v) => ({ entry: [{ changes: [{ field: 'messages', value: v }] }] })),
  x.map((v) => ({ entry: [{ changes: [{ value: { messages: [v] } }] }] })),
  x.map((v) => ({ entry: [{ changes: [{ value: { statuses: [v], contacts: v } }] }] })),
  fc.record({ type: fc.constantFrom(...KINDS, 'order', 'system'), v: x }).map(({ type, v }) => ({
    entry: [{ changes: [{ value: { contacts: [{ wa_id: '919876543210', profile: { name: 'R' } }], messages: [{ from: '919876543210', id: 'wamid.x', timestamp: '1750000000', type, [type]: v }] } }] }],
  })),
);

const keyArb = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...BUILT_IN_NAMES), fc.constantFrom(...WEBHOOK_KEYS));
const leaf = fc.oneof(hostileString, oddNumber, fc.boolean(), fc.constant(null), fc.constant(undefined));

describe('webhook parser fuzz', () => {
  it('parses every real fixture, unmutated, to its expected number of events', () => {
    assert.deepEqual(WEBHOOK_FIXTURES.map((f) => f.name).sort(), Object.keys(EXPECTED_EVENTS).sort(), 'a fixture without an expected count');
    for (const f of WEBHOOK_FIXTURES) {
      const r = parse(clone(f.body));
      assert.ok(r.ok, `${f.name}: ${r.ok ? '' : r.reason}`);
      assert.equal(r.events.length, EXPECTED_EVENTS[f.name], f.name);
      assertResult(r, f.body, true);
    }
  });

  it('never throws on arbitrary JSON, at any position of a webhook', () => {
    fc.assert(
      fc.property(atWebhookPosition(fc.jsonValue({ maxDepth: 5 })), (body) => {
        const json = JSON.parse(JSON.stringify(body)) as unknown;
        assertResult(parse(json), json, true);
      }),
      fuzzParams(RUNS, TIME_LIMIT_MS),
    );
  });

  it('never throws on arbitrary values with prototype-ish keys (null prototypes, boxed values, Maps, BigInts, sparse arrays)', () => {
    const anything = fc.anything({
      key: keyArb, values: [leaf], maxDepth: 4, maxKeys: 6,
      withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true,
    });
    fc.assert(
      fc.property(atWebhookPosition(anything), (body) => assertResult(parse(body), body, false)),
      fuzzParams(RUNS, TIME_LIMIT_MS),
    );
  });

  it('never throws on real fixtures mutated at random paths, and keeps every string within its cap', () => {
    fc.assert(
      fc.property(mutatedFixture(6), ({ body }) => {
        // What the transport hands over is JSON.parse output: own `__proto__` keys and all.
        const text = toJsonText(body);
        const json = text === '' ? undefined : (JSON.parse(text) as unknown);
        assertResult(parse(json), json, true);
        assertResult(parse(body), body, false);
      }),
      fuzzParams(RUNS, TIME_LIMIT_MS),
    );
  });

  it('clips human text of any length to MAX_TEXT, never splitting a surrogate pair, in every human-readable field', () => {
    const fields = fc.constantFrom(
      ['text', 'body'], ['button', 'text'], ['interactive', 'button_reply', 'title'], ['image', 'caption'], ['document', 'filename'],
      ['location', 'name'], ['location', 'address'], ['contacts', '0', 'name', 'formatted_name'],
    );
    fc.assert(
      fc.property(fields, fc.integer({ min: MAX_TEXT - 3, max: MAX_TEXT * 40 }), fc.constantFrom('a', '😀', 'ज', 'yes send '), (path, length, filler) => {
        const text = filler.repeat(Math.ceil(length / filler.length)).slice(0, length).replace(/[\ud800-\udbff]$/, 'a');
        const type = path[0]!;
        const message: Record<string, unknown> = { from: '919876543210', id: 'wamid.cut', timestamp: '1750000000', type };
        const skeleton: Record<string, unknown> = {
          text: { body: '' }, button: { text: '', payload: 'p' }, interactive: { type: 'button_reply', button_reply: { id: 'r', title: '' } },
          image: { id: 'm1' }, document: { id: 'm2' }, location: { latitude: 12.9, longitude: 77.5 }, reaction: { message_id: 'wamid.r' },
          contacts: [{ name: {} }],
        };
        message[type] = clone(skeleton[type]);
        let at = message[type] as Record<string, unknown>;
        for (const k of path.slice(1, -1)) at = at[k] as Record<string, unknown>;
        at[path[path.length - 1]!] = text;
        const body = { entry: [{ changes: [{ value: { contacts: [{ wa_id: '919876543210', profile: { name: text } }], messages: [message] } }] }] };
        const r = parse(body);
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assertResult(r, body, true);
      }),
      fuzzParams(RUNS, TIME_LIMIT_MS),
    );
  });

  it('ignores fields it does not know, anywhere: the same events with or without them', () => {
    const unknownOnly = fc.array(
      fc.record({ pick: fc.nat(), m: mutation.filter((m) => m.op === 'unknown-key') }),
      { minLength: 1, maxLength: 6 },
    );
    const withoutContacts = (events: WebhookEvent[]) => events.map((e) => (e.kind === 'message' ? { ...e, contacts: e.contacts?.length } : e));
    fc.assert(
      fc.property(fc.constantFrom(...WEBHOOK_FIXTURES), unknownOnly, (fixture, placed: Placed[]) => {
        const plain = parse(clone(fixture.body));
        const extended = parse(JSON.parse(toJsonText(applyMutations(fixture.body, placed))) as unknown);
        assert.ok(plain.ok && extended.ok, `${fixture.name}: ${extended.ok ? '' : extended.reason}`);
        // A contacts message keeps its cards as sent, unknown fields included; only their number is compared.
        assert.deepEqual(withoutContacts(extended.events), withoutContacts(plain.events));
      }),
      fuzzParams(RUNS, TIME_LIMIT_MS),
    );
  });

  it('stays total on many mutations stacked on one fixture (deep nesting, repeats, prototype keys together)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WEBHOOK_FIXTURES), placedMutations(20), (fixture, placed) => {
        const body = applyMutations(fixture.body, placed);
        assertResult(parse(body), body, false);
      }),
      fuzzParams(150, TIME_LIMIT_MS),
    );
  });
});
