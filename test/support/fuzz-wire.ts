/**
 * What the fuzz suites send on the wire: raw URL segments and query strings,
 * Authorization headers (good, forged, expired, oddly claimed), request
 * bodies, whole HTTP requests over given routes, and agent WebSocket frames.
 * Built on the values of fuzz-inputs.ts; every one is a fast-check arbitrary.
 */
import { isUtf8 } from 'node:buffer';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET } from './app.ts';
import { AGENT_EVENTS, type RawRequest } from './fuzz-client.ts';
import {
  applyMutations, BUILT_IN_NAMES, brokenUnicode, hostileString, mutatedFixture, nestedJson, oddNumber, OTHER_FIXTURES,
  placedMutations, rarely, toJsonText, WEBHOOK_FIXTURES,
} from './fuzz-inputs.ts';

// ---------------------------------------------------------------- URLs

/** Characters node:http sends in a path as they are (its check is U+0021–U+00FF), less the ones that end a segment. */
const RAW_SEGMENT_CHARS = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)), ...Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i))]
  .filter((c) => c !== '/' && c !== '?' && c !== '#');

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as Buffer does). */
export const percentEncode = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

export const BAD_ESCAPES = ['%', '%Z', '%ZZ', '%2', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF', '%F4%90%80%80', '%%', '%u0041', '%00', '%2F', '%25', 'a%', '%%41'];

/** A path segment as sent on the wire. */
export const rawSegment = (goodValues: readonly string[] = []): fc.Arbitrary<string> => fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...RAW_SEGMENT_CHARS), maxLength: 24 }) },
  { weight: 3, arbitrary: fc.constantFrom(...BAD_ESCAPES) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 6 }), fc.constantFrom(...BAD_ESCAPES), fc.string({ unit: 'grapheme-ascii', maxLength: 6 })).map(([a, b, c]) => encodeURIComponent(a) + b + encodeURIComponent(c)) },
  { weight: 3, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 16 }), brokenUnicode).map(percentEncode) },
  { weight: 2, arbitrary: fc.constantFrom(...BUILT_IN_NAMES).chain((n) => fc.constantFrom(n, percentEncode(n))) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 6000 }).map((n) => 'a'.repeat(n)) },
  ...(goodValues.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...goodValues) }] : []),
);

/** A query string (without `?`), raw. */
export const rawQuery = (extraPairs: readonly string[] = []): fc.Arbitrary<string> =>
  fc.array(fc.oneof(
    fc.tuple(rawSegment(), rawSegment()).map(([k, v]) => `${k.replace(/&/g, '')}=${v.replace(/&/g, '')}`),
    fc.constantFrom('=', '&', '==', 'a', 'a=', '=a', '%=%', ...extraPairs),
  ), { maxLength: 5 }).map((pairs) => pairs.join('&'));

// ---------------------------------------------------------------- tokens

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
/** A JWT with any header and payload, signed HS256 with `secret`. */
export function craftToken(header: unknown, payload: unknown, secret = TEST_JWT_SECRET): string {
  const body = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const HS256 = { alg: 'HS256', typ: 'JWT' };

export type TokenKind = 'valid-agent' | 'valid-admin' | 'signed-odd-claims' | 'refused';
export interface TokenCase {
  kind: TokenKind;
  /** The whole `Authorization` header value, or undefined for none. */
  header: string | undefined;
  token: string | undefined;
}

/** Authorization headers: good agent / admin tokens, oddly-claimed ones signed with the real secret, and refused ones (expired, forged, no `exp`, `alg: none`, garbage). */
export const tokenCase = (agent: string): fc.Arbitrary<TokenCase> => {
  const bearer = (kind: TokenKind) => (token: string): TokenCase => ({ kind, header: `Bearer ${token}`, token });
  const refused = fc.oneof(
    fc.constant(craftToken(HS256, { sub: agent, role: 'agent', exp: now() - 60 })),
    fc.constant(craftToken(HS256, { sub: agent, role: 'admin' })),
    fc.constant(craftToken(HS256, { sub: agent, exp: now() + 3600 }, 'wrong-secret-wrong-secret-wrong!')),
    fc.constant(craftToken(HS256, { sub: agent, exp: now() + 3600, nbf: now() + 3600 })),
    fc.constant(`${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify({ sub: agent, role: 'admin', exp: now() + 3600 }))}.`),
    fc.constant(craftToken({ alg: 'none' }, { sub: agent, exp: now() + 3600 })),
    fc.constant(craftToken(HS256, { sub: '', exp: now() + 3600 })),
    fc.constant(craftToken(HS256, { sub: agent, role: 'root', exp: now() + 3600 })),
    fc.constant(craftToken(HS256, { sub: agent, exp: String(now() + 3600) })),
    fc.constant(signToken({ sub: agent }, TEST_JWT_SECRET).slice(0, -2)),
    fc.constant('x'.repeat(5000)),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.='.split('')), maxLength: 60 }),
  ).map(bearer('refused'));
  const odd = fc.record({
    sub: fc.oneof(fc.constantFrom(...BUILT_IN_NAMES, 'a'.repeat(100), '9638120888'), brokenUnicode.filter((s) => s.length > 0 && s.length <= 100)),
    role: fc.constantFrom('agent', 'admin'),
    exp: fc.constantFrom(now() + 3600, 1e15, 2 ** 53 - 1),
  }).map((claims) => craftToken(HS256, claims)).map(bearer('signed-odd-claims'));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(signToken({ sub: agent }, TEST_JWT_SECRET)).map(bearer('valid-agent')) },
    { weight: 2, arbitrary: fc.constant(signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)).map(bearer('valid-admin')) },
    { weight: 1, arbitrary: odd },
    { weight: 3, arbitrary: refused },
    { weight: 2, arbitrary: fc.constant<TokenCase>({ kind: 'refused', header: undefined, token: undefined }) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Basic YWRtaW46YWRtaW4=', 'Bearer a.b.c', 'Bearer \u00ff\u00fe').map((header): TokenCase => ({ kind: 'refused', header, token: undefined })) },
  );
};

// ---------------------------------------------------------------- bodies

/** Header-safe strings (node:http refuses control characters in header values). */
export const headerValue = fc.string({ unit: fc.constantFrom(...RAW_SEGMENT_CHARS, ' ', '/', '?', '#', '\t'), maxLength: 40 });

/** A request body: mutated fixtures, arbitrary JSON, text that is not JSON, bytes that are not UTF-8, deep nesting, lone-surrogate escapes, prototype keys. */
export const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: mutatedFixture().map((m) => Buffer.from(toJsonText(m.body))) },
  { weight: 1, arbitrary: fc.constantFrom(...WEBHOOK_FIXTURES, ...OTHER_FIXTURES).map((f) => Buffer.from(JSON.stringify(f.body))) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.record({ levels: fc.integer({ min: 30, max: 3000 }), arrays: fc.boolean() }).map(({ levels, arrays }) => Buffer.from(nestedJson(levels, arrays))) },
  { weight: 1, arbitrary: fc.record({ key: fc.constantFrom(...BUILT_IN_NAMES), at: fc.constantFrom('object', 'entry', 'text') }).map(({ key, at }) => Buffer.from(JSON.stringify(WEBHOOK_FIXTURES[0]!.body).replace(`"${at}":`, `"${key}":{"prototype":{"polluted":1}},"${at}":`))) },
  { weight: 1, arbitrary: fc.constantFrom('\\ud800', '\\udfff', '\\ud83d', 'ok \\udc00 ok').map((esc) => Buffer.from(JSON.stringify(WEBHOOK_FIXTURES[0]!.body).replace(/"body":"[^"]*"/, `"body":"${esc}"`))) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '{}', '[]', '{', '{"a":1}{', '\ufeff{}', '{"mobile":"9876543210","message":"x"}', '{"message":"Need Discount Code"}').map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 250_000 }).map((n) => Buffer.from(JSON.stringify({ message: 'yes send '.repeat(n / 9) }))) },
);

// ---------------------------------------------------------------- requests

export interface HttpRequestOptions {
  /** Route patterns (`/api/machines/:name`) with their methods; every `:param` is filled with a raw segment. */
  routes: readonly { method: string; pattern: string }[];
  /** The agent identity of generated tokens. */
  agent: string;
  /** Segment values that make a request valid (channel ids, machine names, numbers). */
  goodValues: readonly string[];
  /** The method instead of the route's. */
  methods?: fc.Arbitrary<string>;
  /** `post`: a body with POST only; `any`: a body whatever the method. */
  bodies: 'post' | 'any';
  extraHeaders?: fc.Arbitrary<Record<string, string>>;
}

/** A generated request: a route filled with raw segments, a query, an Authorization header, other headers, maybe a body. */
export function httpRequest(opts: HttpRequestOptions): fc.Arbitrary<RawRequest> {
  const validAgent = signToken({ sub: opts.agent }, TEST_JWT_SECRET);
  const extraPairs = [
    'hub.mode=subscribe', 'hub.verify_token=verify-me', 'hub_verify_token=verify-me', 'hub.challenge=%3Cscript%3E', 'hub.challenge=%ED%A0%80',
    'to=9822000001', 'to=%', 'name=ask_issue_resolved', 'language=hi', 'language=__proto__', 'channel=9638120888', `token=${validAgent}`,
    '__proto__[polluted]=1', 'constructor[prototype][polluted]=1',
  ];
  return fc.record({
    route: fc.constantFrom(...opts.routes),
    method: opts.methods ?? fc.constant(undefined),
    segments: fc.array(rawSegment(opts.goodValues), { minLength: 2, maxLength: 2 }),
    suffix: rarely(fc.constantFrom('/', '//', '/x', '/..', '/%2e%2e', '#frag', '?', '/%'), 8),
    query: fc.option(rawQuery(extraPairs), { freq: 2, nil: undefined }),
    token: tokenCase(opts.agent),
    contentType: fc.option(fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'), headerValue), { nil: undefined }),
    requestId: rarely(headerValue, 4),
    origin: rarely(fc.oneof(fc.constant('https://evil.example'), headerValue), 4),
    signature: rarely(fc.oneof(fc.constant('sha256=00'), headerValue), 6),
    extra: opts.extraHeaders ?? fc.constant({}),
    body: opts.bodies === 'post' ? hostileBody : fc.oneof(hostileBody, fc.integer({ min: 1, max: 250_000 }).map((n) => Buffer.alloc(n, '{'))),
  }).map((x): RawRequest => {
    const method = x.method ?? x.route.method;
    let i = 0;
    const path = x.route.pattern.replace(/:[a-z_]+/g, () => x.segments[i++] ?? '') + (x.suffix ?? '') + (x.query === undefined ? '' : `?${x.query}`);
    const headers: Record<string, string> = { ...x.extra };
    if (x.token.header !== undefined) headers.authorization = x.token.header;
    if (x.contentType !== undefined) headers['content-type'] = x.contentType;
    if (x.requestId !== undefined) headers['x-request-id'] = x.requestId;
    if (x.origin !== undefined) headers.origin = x.origin;
    if (x.signature !== undefined) headers['x-hub-signature-256'] = x.signature;
    const withBody = opts.bodies === 'any' || method === 'POST';
    return { method, path, headers, ...(withBody ? { body: x.body } : {}) };
  });
}

// ---------------------------------------------------------------- WebSocket frames

/** A frame as it goes on the wire. */
export interface WireFrame {
  bytes: Buffer;
  binary: boolean;
}

/** Valid `data` for each agent event, about one chat (`chatId`, `customer`); `new_chat` opens one for `numberFor(n)`. */
export function agentEventData(o: { agent: string; chatId: string; customer: string; numberFor: (n: number) => string }) {
  return (event: string, n: number): Record<string, unknown> => {
    switch (event) {
      case 'config': return { sender: o.agent };
      case 'search_chat': return { customer: o.customer };
      case 'fetch_all_chats': return { status: 'active', customer_type: 'Customer', search: o.customer.slice(0, 2), page: 1, page_size: 10 };
      case 'fetch_chats_by_user': return { chat_id: o.chatId, page: 1, page_size: 5 };
      case 'new_chat': return { customer: o.numberFor(n), customer_type: 'Customer' };
      case 'join_chat': return { chat_id: o.chatId, type: 'agent' };
      case 'join_chat_customer': return { chat_id: o.chatId, customer_type: 'Customer' };
      case 'send_message': return { chat_id: o.chatId, message: `fuzz reply ${n}`, sender: o.agent };
      case 'leave_chat': return { chat_id: o.chatId };
      case 'update_chat_status': return { customer_number: o.customer, status: n % 2 ? 'resolved' : 'active' };
      case 'fetch_missed': return { chat_id: o.chatId, after_seq: 0 };
      default: return {};
    }
  };
}

/** Frames over 64 KiB close the connection by contract: generated ones stay well under. */
const MAX_GENERATED_FRAME = 60_000;

/**
 * Agent WebSocket frames: the events of ws-events.ts with valid data from
 * `template` (mutated or not), built-in and unknown event names, odd ids,
 * and frames that are not a JSON object at all (junk text, binary bytes,
 * arrays, duplicate keys, a BOM, 3,000 levels of nesting).
 */
export function wsWire(template: (event: string, n: number) => Record<string, unknown>): fc.Arbitrary<WireFrame> {
  const eventName = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...AGENT_EVENTS) },
    { weight: 2, arbitrary: fc.constantFrom(...BUILT_IN_NAMES, 'error', '', 'CONFIG', 'config ', 'send_message\u0000', 'new_message', 'dashboard_stats') },
    { weight: 1, arbitrary: hostileString.map((s) => s.slice(0, 2000)) },
    { weight: 1, arbitrary: fc.oneof(oddNumber, fc.constant(null), fc.constant(true), fc.jsonValue({ maxDepth: 1 })) },
  );
  const frameId = fc.option(fc.oneof(
    fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }), brokenUnicode, fc.constant(null),
    fc.integer({ min: 120, max: 300 }).map((k) => 'i'.repeat(k)), fc.jsonValue({ maxDepth: 1 }),
  ), { freq: 8, nil: undefined });
  const data = (event: unknown, n: number) => fc.oneof(
    { weight: 3, arbitrary: fc.constant(template(String(event), n)) },
    { weight: 6, arbitrary: placedMutations(3).map((m) => applyMutations(template(String(event), n), m)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const frame = fc.record({ event: eventName, n: fc.nat(9999), id: frameId }).chain(({ event, n, id }) => data(event, n).map((d) => ({ event, id, data: d })));
  /** How the frame travels: as JSON text (the usual), as a binary frame, or as something that is not a JSON object at all. */
  const wire = fc.oneof(
    { weight: 12, arbitrary: frame.map((f) => ({ kind: 'json' as const, f })) },
    { weight: 1, arbitrary: frame.map((f) => ({ kind: 'json-binary' as const, f })) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => ({ kind: 'text' as const, text: s })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((b) => ({ kind: 'bytes' as const, bytes: Buffer.from(b) })) },
    { weight: 1, arbitrary: fc.constantFrom('[]', '[{"event":"config"}]', 'null', '"config"', '1', '{', '{"event":"config","id":1e999}', '{"event":"config","event":"__proto__","id":"dup","id":"dup2"}', '\ufeff{"event":"config","id":"bom"}', '{"event":"config","id":"x","data":{"constructor":{"prototype":{"polluted":1}}}}', '{"event":"__proto__","id":"p","data":{"__proto__":{"polluted":1}}}', '{"event":"send_message","id":"s","data":{"chat_id":"x","message":"\\ud800"}}')
      .map((text) => ({ kind: 'text' as const, text })) },
    { weight: 1, arbitrary: fc.record({ levels: fc.integer({ min: 30, max: 3000 }), arrays: fc.boolean(), id: fc.string({ maxLength: 8 }) })
      .map(({ levels, arrays, id }) => ({ kind: 'text' as const, text: `{"event":"fetch_all_chats","id":${JSON.stringify(id)},"data":${nestedJson(levels, arrays)}}` })) },
  );
  return wire.map((w): WireFrame => {
    if (w.kind === 'json' || w.kind === 'json-binary') {
      let text = stringifyDeep(w.f);
      if (Buffer.byteLength(text) > MAX_GENERATED_FRAME) text = JSON.stringify({ ...w.f, data: { big: 'x'.repeat(50_000) } });
      return { bytes: Buffer.from(text), binary: w.kind === 'json-binary' };
    }
    if (w.kind === 'text') return { bytes: Buffer.from(w.text), binary: false };
    return { bytes: w.bytes, binary: true };
  });
}

/**
 * JSON text of a generated frame. Mutations can nest deep values inside each other past what JSON.stringify's
 * recursion takes (it overflowed the stack in one CI run, failing the generator, not the server): such a frame
 * is sent with 3,000 levels of nesting as its data instead, still deep, still refused by the server.
 */
function stringifyDeep(f: { data?: unknown }): string {
  try {
    return JSON.stringify(f);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return JSON.stringify({ ...f, data: '\u0000deep\u0000' }).replace('"\\u0000deep\\u0000"', nestedJson(3000));
  }
}

/** A frame read as the contract says the server must: UTF-8 JSON (anything else reads as undefined). */
export function readFrame(bytes: Buffer): unknown {
  try {
    return isUtf8(bytes) ? (JSON.parse(bytes.toString('utf8')) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
