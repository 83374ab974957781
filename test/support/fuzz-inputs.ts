/**
 * Generated and mutated values for the fuzz suites (test/fuzz): the real
 * webhook fixtures, mutations at random paths, hostile strings and numbers,
 * deep nesting. What travels on the wire (URLs, tokens, bodies, frames) is in
 * fuzz-wire.ts. Everything here is a fast-check arbitrary or a pure helper, so
 * a failing input shrinks and replays from its seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/** `FUZZ_SEED=<n>` (and `FUZZ_PATH=<path>`) replays a reported failure; otherwise every run draws a new seed. */
export function fuzzParams<T>(numRuns: number, timeLimitMs: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return {
    numRuns,
    plugins: [fc.interruptAfterTimeLimit(timeLimitMs)],
    ...(seed === undefined ? {} : { seed }),
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
  };
}

/** `arb` once in `1 + absentWeight` draws, otherwise undefined (fast-check's `option` counts the other way round). */
export const rarely = <T>(arb: fc.Arbitrary<T>, absentWeight: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absentWeight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

// ---------------------------------------------------------------- fixtures

const SHARED = join(import.meta.dirname, '../../../shared/fixtures/whatsapp');
const LOCAL = join(import.meta.dirname, '../fixtures/webhooks');

export interface Fixture {
  name: string;
  body: unknown;
}

const load = (dir: string, prefix: string, filter: (n: string) => boolean): Fixture[] =>
  readdirSync(dir).filter((n) => n.endsWith('.json') && filter(n)).sort()
    .map((n) => ({ name: `${prefix}${n}`, body: JSON.parse(readFileSync(join(dir, n), 'utf8')) as unknown }));

/** Every real webhook body: Meta's published inbound examples and the project's own fixtures. */
export const WEBHOOK_FIXTURES: readonly Fixture[] = [
  ...load(SHARED, 'shared/', (n) => n.startsWith('inbound-')),
  ...load(LOCAL, 'webhooks/', () => true),
];
/** Real JSON that is not a webhook (Cloud API request bodies). */
export const OTHER_FIXTURES: readonly Fixture[] = load(SHARED, 'shared/', (n) => n.startsWith('outbound-'));

export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/**
 * JSON text of a generated value. Stacked `nest` mutations can go deeper than
 * JSON.stringify's recursion allows (about 4,000 levels here): such a value is
 * sent as 5,000 levels of nesting instead, which is what it was about to be.
 */
export function toJsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch (err) {
    if (err instanceof RangeError) return nestedJson(5000);
    throw err;
  }
}

// ---------------------------------------------------------------- strings

/** Names that reach an object's prototype or its built-ins when used as keys. */
export const BUILT_IN_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype).filter((n) => n !== '__proto__')];
/** Field names of the webhook format, so mutations land where the parser looks. */
export const WEBHOOK_KEYS: readonly string[] = [
  'object', 'entry', 'id', 'changes', 'field', 'value', 'messaging_product', 'metadata', 'display_phone_number',
  'phone_number_id', 'contacts', 'profile', 'name', 'wa_id', 'messages', 'from', 'timestamp', 'type', 'text', 'body',
  'button', 'payload', 'interactive', 'button_reply', 'list_reply', 'title', 'image', 'video', 'audio', 'document',
  'sticker', 'mime_type', 'sha256', 'caption', 'filename', 'url', 'location', 'latitude', 'longitude', 'address',
  'reaction', 'message_id', 'emoji', 'context', 'statuses', 'status', 'recipient_id', 'errors', 'code', 'message',
  'error_data', 'details', 'formatted_name', 'first_name', 'last_name',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Strings that may hold lone surrogates next to any other code point. */
export const brokenUnicode = fc.string({ unit: fc.oneof(loneSurrogate, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 });

/** How to build a string far over any text cap (kept small, so a counterexample prints short). */
export interface HugeSpec {
  length: number;
  filler: string;
  /** Where a surrogate pair goes, to straddle a cut. */
  pairAt?: number | undefined;
}

export const hugeSpec: fc.Arbitrary<HugeSpec> = fc.record({
  length: fc.integer({ min: 4_000, max: 120_000 }),
  filler: fc.constantFrom('x', 'yes send ', '😀', 'ज', ' ', '\u0000', '9'),
  pairAt: fc.option(fc.constantFrom(4094, 4095, 4096, 4097), { nil: undefined }),
});

export function buildHuge({ length, filler, pairAt }: HugeSpec): string {
  const s = filler.repeat(Math.ceil(length / filler.length)).slice(0, length);
  return pairAt === undefined ? s : `${'a'.repeat(pairAt)}😀${s}`;
}

/** A string far over any text cap, optionally with a surrogate pair straddling a cut. */
export const hugeString = hugeSpec.map(buildHuge);

/** Strings worth trying anywhere a string goes. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: brokenUnicode },
  { weight: 2, arbitrary: fc.constantFrom(...BUILT_IN_NAMES, '', ' ', '%', '%ZZ', '%ED%A0%80', '\u0000', '\u202e', '𝕏'.repeat(3), '../../etc/passwd', '${x}', '$where', '{"$gt":""}', 'null', 'NaN', '9638120888', '919876543210', '+91 98765 43210') },
  { weight: 1, arbitrary: hugeString },
);

/** Numbers where strings go (and the odd values JavaScript has). */
export const oddNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 1e21, -1e21, 2 ** 53, 2 ** 53 + 2, 1e308, Number.MIN_VALUE, 9876543210, 919876543210, 1750000000),
  fc.double(),
  fc.integer(),
);

// ---------------------------------------------------------------- nesting

/** `levels` of nesting around `inner`, as objects (`{"x": …}`) or arrays (`[…]`). */
export function nested(levels: number, inner: unknown = 'bottom', arrays = false): unknown {
  let v = inner;
  for (let i = 0; i < levels; i++) v = arrays ? [v] : { x: v };
  return v;
}

/** The same as JSON text, built without recursion (JSON.stringify of 3,000 levels is fine, but this is cheaper). */
export function nestedJson(levels: number, arrays = false): string {
  return arrays ? `${'['.repeat(levels)}1${']'.repeat(levels)}` : `${'{"x":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

// ---------------------------------------------------------------- mutations

/** Sets an own, enumerable property, as JSON.parse does, even for `__proto__`. */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Path = (string | number)[];

/** Every path in a JSON-like value, root first (at most `limit`). */
export function pathsOf(root: unknown, limit = 400): Path[] {
  const out: Path[] = [];
  const stack: { v: unknown; p: Path }[] = [{ v: root, p: [] }];
  while (stack.length > 0 && out.length < limit) {
    const { v, p } = stack.pop()!;
    out.push(p);
    if (typeof v !== 'object' || v === null) continue;
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys.reverse()) stack.push({ v: (v as Record<string | number, unknown>)[k], p: [...p, k] });
  }
  return out;
}

export type Mutation =
  | { op: 'drop' }
  | { op: 'replace'; value: unknown }
  | { op: 'retype' }
  | { op: 'number'; value: number }
  | { op: 'huge'; spec: HugeSpec }
  | { op: 'lone-surrogate'; at: number; unit: string }
  | { op: 'nest'; levels: number; arrays: boolean }
  | { op: 'proto-key'; key: string; value: unknown }
  | { op: 'unknown-key'; key: string; value: unknown }
  | { op: 'repeat'; times: number };

/** One mutation and where it lands: an index into `pathsOf` (modulo their number), among the deep paths (into a message or status) when `deep`. */
export interface Placed {
  pick: number;
  deep?: boolean;
  m: Mutation;
}

/** Paths at least this deep reach inside a message or a status (`entry[].changes[].value.messages[]`). */
const DEEP = 6;

const protoValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ prototype: { polluted: 1 } }), fc.constant({ polluted: 1 }));

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ op: 'drop' }) },
  { weight: 3, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString, oddNumber).map((value): Mutation => ({ op: 'replace', value })) },
  { weight: 3, arbitrary: fc.constant<Mutation>({ op: 'retype' }) },
  { weight: 2, arbitrary: oddNumber.map((value): Mutation => ({ op: 'number', value })) },
  { weight: 2, arbitrary: fc.oneof(hugeSpec, fc.integer({ min: 30, max: 3000 }).map((length): HugeSpec => ({ length, filler: '9' }))).map((spec): Mutation => ({ op: 'huge', spec })) },
  { weight: 2, arbitrary: fc.record({ at: fc.nat(), unit: loneSurrogate }).map(({ at, unit }): Mutation => ({ op: 'lone-surrogate', at, unit })) },
  { weight: 1, arbitrary: fc.record({ levels: fc.oneof(fc.integer({ min: 20, max: 40 }), fc.integer({ min: 100, max: 3000 })), arrays: fc.boolean() }).map(({ levels, arrays }): Mutation => ({ op: 'nest', levels, arrays })) },
  { weight: 2, arbitrary: fc.record({ key: fc.constantFrom(...BUILT_IN_NAMES), value: protoValue }).map(({ key, value }): Mutation => ({ op: 'proto-key', key, value })) },
  { weight: 1, arbitrary: fc.record({ key: fc.string({ minLength: 1, maxLength: 8 }).map((k) => `x_fuzz_${k}`), value: fc.jsonValue({ maxDepth: 2 }) }).map(({ key, value }): Mutation => ({ op: 'unknown-key', key, value })) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 160 }).map((times): Mutation => ({ op: 'repeat', times })) },
);

export const placedMutations = (max = 5): fc.Arbitrary<Placed[]> =>
  fc.array(fc.record({ pick: fc.nat(), deep: fc.boolean(), m: mutation }), { minLength: 1, maxLength: max });

function retype(v: unknown): unknown {
  if (typeof v === 'string') return v !== '' && Number.isFinite(Number(v)) ? Number(v) : v.length;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (v === null) return {};
  if (typeof v !== 'object') return null;
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return Object.values(v as object);
}

function mutateAt(v: unknown, m: Mutation): { value: unknown; drop?: boolean } {
  switch (m.op) {
    case 'drop':
      return { value: undefined, drop: true };
    case 'replace':
      return { value: structuredClone(m.value) }; // a copy: generated values may be shared (fc.constant), and later mutations edit in place
    case 'retype':
      return { value: retype(v) };
    case 'number':
      return { value: m.value };
    case 'huge':
      return { value: buildHuge(m.spec) };
    case 'lone-surrogate': {
      if (typeof v !== 'string') return { value: m.unit };
      const at = m.at % (v.length + 1);
      return { value: v.slice(0, at) + m.unit + v.slice(at) };
    }
    case 'nest':
      return { value: nested(m.levels, v, m.arrays) };
    case 'proto-key':
    case 'unknown-key': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return { value: v };
      setOwn(v, m.key, structuredClone(m.value));
      return { value: v };
    }
    case 'repeat':
      return { value: Array.isArray(v) && v.length > 0 ? Array.from({ length: m.times }, (_, i) => cloneOrShare(v[i % v.length])) : v };
  }
}

/** A copy, or the value itself when it is nested too deep to copy (sharing it is safe: mutations never put a node inside itself). */
function cloneOrShare(v: unknown): unknown {
  try {
    return clone(v);
  } catch (err) {
    if (err instanceof RangeError) return v;
    throw err;
  }
}

/** A copy of `root` with the mutations applied in order (each at a path of the value as it is by then). */
export function applyMutations(root: unknown, placed: readonly Placed[]): unknown {
  let value = cloneOrShare(root);
  for (const { pick, deep, m } of placed) {
    const all = pathsOf(value);
    const deepOnes = deep ? all.filter((p) => p.length >= DEEP) : [];
    const paths = deepOnes.length > 0 ? deepOnes : all;
    const path = paths[pick % paths.length]!;
    if (path.length === 0) {
      value = mutateAt(value, m).value;
      continue;
    }
    let parent = value as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path[path.length - 1]!;
    const r = mutateAt(parent[key], m);
    if (!r.drop) setOwn(parent, String(key), r.value);
    else if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  }
  return value;
}

/**
 * A real webhook fixture with up to `max` mutations. `body` is not enumerable, so a
 * counterexample prints as the fixture's name and its mutations (a body nested
 * 3,000 levels would overflow the printer's stack).
 */
export const mutatedFixture = (max = 5): fc.Arbitrary<{ name: string; mutations: Placed[]; body: unknown }> =>
  fc.record({ name: fc.constantFrom(...WEBHOOK_FIXTURES.map((f) => f.name)), mutations: placedMutations(max) })
    .map(({ name, mutations }) => {
      const fixture = WEBHOOK_FIXTURES.find((f) => f.name === name)!;
      const out = { name, mutations } as { name: string; mutations: Placed[]; body: unknown };
      Object.defineProperty(out, 'body', { value: applyMutations(fixture.body, mutations), enumerable: false });
      return out;
    });

/** Rewrites every sender / recipient number and message id of a webhook body in place, so one test's input cannot be mistaken for another's. */
export function relabel(body: unknown, number: string, idPrefix: string): unknown {
  let n = 0;
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    for (const k of ['from', 'wa_id', 'recipient_id']) if (typeof o[k] === 'string') o[k] = number;
    if (typeof o.id === 'string' && o.id.startsWith('wamid.')) o.id = `${idPrefix}.${++n}`;
    Object.values(o).forEach(walk);
  };
  walk(body);
  return body;
}

/** Does any string or key in this JSON-like value hold a lone surrogate? */
export function hasLoneSurrogate(root: unknown): boolean {
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return true;
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (!k.isWellFormed()) return true;
        stack.push(x);
      }
    }
  }
  return false;
}
