import { z } from 'zod';
import type { DiscountEvent, DiscountReason, DiscountRoute } from '../machines/discount.machine.ts';
import { asksForPerson } from './human-request.ts';

/** One row of the `discount_code_template` collection (spec §5.6), seeded from `data/discount-routes.seed.json`. */
export const routeTemplateSchema = z.object({
  _id: z.string().min(1),
  route: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  price: z.number().int().positive(),
  code: z.string().min(1).max(40),
  sample_code: z.boolean().default(false),
  enabled: z.boolean().default(true),
  valid_from: z.coerce.date(),
  valid_until: z.coerce.date(),
  header: z.string().max(60),
  body: z.string().max(1024),
  footer: z.string().max(60),
});
export type RouteTemplate = z.infer<typeof routeTemplateSchema>;

export const REASONS: Record<DiscountReason, string> = { bad_service: 'Bad Service', prices_high: 'Prices are High', other: 'Other Reason' };
/** Reply ids that give a reason. A Set, not `id in REASONS`: a reply id is client input, and `constructor` or `__proto__` are "in" every object. */
const REASON_IDS: ReadonlySet<string> = new Set(Object.keys(REASONS));
const isReason = (id: string): id is DiscountReason => REASON_IDS.has(id);

/** What a classifier needs to know about one inbound message on the discount channel. */
export interface DiscountInbound {
  id: string;
  at: number;
  kind: string;
  text: string;
  buttonPayload?: string;
  interactiveReplyId?: string;
}

/**
 * Lower case, currency marks and punctuation gone, spaces folded: "Need Discount Code - Pune to Mumbai Airport @ ₹2,199" → "need discount code pune to mumbai airport @ 2199".
 * Linear in the text's length: the two patterns are fixed alternatives that cannot backtrack, and the rest is one scan.
 */
export function normalize(text: string): string {
  return normalizeJoined(text, ' ');
}

const UTF16 = new TextDecoder('utf-16le');

/**
 * `normalize(text)` with its words joined by `separator` (one UTF-16 unit): joining by `_` here is far cheaper
 * than replacing every space afterwards. The output is written into a buffer and decoded once: appending
 * to a string would build a rope of one node per word, which on a long text costs more in GC than the scan.
 */
function normalizeJoined(text: string, separator: string): string {
  const s = text.toLowerCase().replace(/₹|\brs\.?|\binr\b|\/-/g, ' ').replace(/(\d),(\d)/g, '$1$2');
  // One pass for what `.replace(/@/g, ' @ ').replace(/[^a-z0-9@\u0900-\u097f]+/g, ' ').trim()` did:
  // the runs of a-z, 0-9 and Devanagari, and each @ alone, joined by the separator.
  const sep = separator.charCodeAt(0);
  const out = new Uint16Array(2 * s.length); // at worst a separator before every character
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x900 && c <= 0x97f)) {
      if (!inWord && n > 0) out[n++] = sep;
      out[n++] = c;
      inWord = true;
    } else {
      if (c === 0x40) {
        if (n > 0) out[n++] = sep;
        out[n++] = c;
      }
      inWord = false;
    }
  }
  return UTF16.decode(out.subarray(0, n));
}

/**
 * The catalogue route a text asks for: the longest "<from> to <to>" phrase it contains, whole words only.
 * One substring search per route: linear in the text for a catalogue of a few dozen routes (14 today); a catalogue
 * of thousands would want the text's word n-grams in a Map instead.
 */
export function matchRoute(text: string, routes: readonly RouteTemplate[]): RouteTemplate | null {
  return routeIn(normalize(text), routes);
}

function routeIn(normalized: string, routes: readonly RouteTemplate[]): RouteTemplate | null {
  const t = ` ${normalized} `;
  let best: RouteTemplate | null = null;
  let bestLength = 0;
  for (const r of routes) {
    const phrase = normalize(`${r.from} to ${r.to}`);
    if (phrase.length > bestLength && t.includes(` ${phrase} `)) {
      best = r;
      bestLength = phrase.length;
    }
  }
  return best;
}

/**
 * A code that must never reach a customer: one marked as a placeholder (`sample_code`, as the seed marks every
 * code the spec does not give), or one that still reads `SAMPLE…` after a hand edit of the database.
 */
export function isPlaceholderCode(r: Pick<RouteTemplate, 'code' | 'sample_code'>): boolean {
  return r.sample_code || /^sample/i.test(r.code);
}

/** The machine's view of a route at time `at`: available only when enabled, with a real code, inside its validity dates. */
export function toDiscountRoute(r: RouteTemplate, at: number): DiscountRoute {
  const available = r.enabled && !isPlaceholderCode(r) && r.valid_from.getTime() <= at && at <= r.valid_until.getTime();
  return { id: r._id, name: r.route, price: r.price, code: r.code, available };
}

/** "Yes, Send Discount Code" with any words around and between: these three words, in this order. */
const ACCEPT_WORDS = ['yes', 'send', 'discount'] as const;
/** How accepting button payloads and reply ids start (`yes_send_code:nashik-mumbai-airport`). */
const ACCEPT_IDS = ['yes_send', 'send_code', 'send_discount'] as const;
// Fixed alternatives of bounded length, no unbounded quantifier: constant work per position, so linear.
const DECLINE = /\b(don ?t|do not) need (a |any )?discount\b|^(no_discount|decline|not_interested)/;
const JOB_WORDS = ['job', 'jobs', 'career', 'careers', 'hiring', 'vacancy', 'vacancies'] as const;
const NON_TEXT: ReadonlySet<string> = new Set(['image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'unsupported']);

/**
 * Calls `visit(start, end)` for each word of a normalized text until it returns true: one scan, nothing
 * allocated. Words are the runs of a-z, 0-9 and `_` (which joins the words of an id), exactly what a regex
 * `\b` delimits, so `/\bjob\b/` and "some word is job" agree.
 */
function someWord(s: string, visit: (start: number, end: number) => boolean): boolean {
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : -1;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (visit(start, i)) return true;
      start = -1;
    }
  }
  return false;
}

/** Whether the word of `s` from `start` to `end` is `word`. */
const wordIs = (s: string, start: number, end: number, word: string): boolean => end - start === word.length && s.startsWith(word, start);

/** Whether `s` has one of `wanted` as a whole word. */
const hasWord = (s: string, wanted: readonly string[]): boolean => someWord(s, (start, end) => wanted.some((w) => wordIs(s, start, end, w)));

/**
 * Whether `s` has the words `wanted` in this order, anything around and between. Taking the first
 * occurrence of each is never worse than a later one, so a single forward scan misses no match.
 */
function hasInOrder(s: string, wanted: readonly string[]): boolean {
  let next = 0;
  return wanted.length === 0 || someWord(s, (start, end) => wordIs(s, start, end, wanted[next]!) && ++next === wanted.length);
}

/**
 * What `/\byes\b.*\bsend\b.*\bdiscount\b|^(yes_send|send_code|send_discount)/` matched, in linear time:
 * that pattern backtracked through every `yes` … `send` pair, cubic in the text (8 KiB took over a second).
 */
function accepts(normalized: string): boolean {
  return ACCEPT_IDS.some((id) => normalized.startsWith(id)) || hasInOrder(normalized, ACCEPT_WORDS);
}

/**
 * Turns a message on the discount channel into the machine's event. Returns
 * null for what the conversation ignores (a reaction). It runs before the
 * webhook is acknowledged, so its work stays linear in the length of the
 * text, payload and reply id (see test/unit/discount-matching-time.test.ts).
 */
export function classify(m: DiscountInbound, routes: readonly RouteTemplate[], campaignRouteId: string): DiscountEvent | null {
  const base = { id: m.id, at: m.at };
  if (m.kind === 'reaction') return null;
  if (NON_TEXT.has(m.kind)) return { ...base, type: 'KEYWORD', key: 'textMsg' };

  const reply = m.interactiveReplyId ?? '';
  if (isReason(reply)) return { ...base, type: 'REASON_GIVEN', reason: reply, text: reply };

  const text = normalize(m.text);
  const payload = m.buttonPayload === undefined ? undefined : normalize(m.buttonPayload);
  const replied = normalize(reply);
  // The same as normalizing the three joined by spaces: no rule of `normalize` reaches across a space.
  const said = [text, payload ?? '', replied].filter((s) => s !== '').join(' ');
  const keyed = normalizeJoined(m.buttonPayload ?? reply, '_');
  if (accepts(said) || accepts(keyed)) {
    const named = matchRoute(`${m.buttonPayload ?? ''} ${reply}`.replace(/[_:-]/g, ' '), routes) ?? routes.find((r) => keyed.includes(r._id.replace(/-/g, '_'))) ?? null;
    const campaign = routes.find((r) => r._id === campaignRouteId) ?? null;
    return { ...base, type: 'ACCEPTED', route: named && toDiscountRoute(named, m.at), campaignRoute: campaign && toDiscountRoute(campaign, m.at) };
  }
  if (DECLINE.test(said) || DECLINE.test(keyed)) return { ...base, type: 'DECLINED' };
  if (asksForPerson(said)) return { ...base, type: 'HUMAN_REQUESTED', text: m.text };

  const route = routeIn(text, routes);
  if (route) return { ...base, type: 'ROUTE_REQUESTED', route: toDiscountRoute(route, m.at) };
  if (hasWord(said, JOB_WORDS)) return { ...base, type: 'KEYWORD', key: 'care_job' };
  if (hasWord(said, ['diya'])) return { ...base, type: 'KEYWORD', key: 'unlock_diya' };
  return { ...base, type: 'UNRECOGNISED', text: m.text };
}
