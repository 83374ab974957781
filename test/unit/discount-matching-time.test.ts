/**
 * Matching customer text must be linear in its length: `classify` runs before
 * the webhook is acknowledged, so a super-linear pattern lets one message stall
 * the process. Each adversarial text is timed against plain text of the same
 * length in the same test, so a slow or loaded machine moves both alike.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { classify, normalize, routeTemplateSchema, type DiscountInbound } from '../../src/domain/discount-catalogue.ts';

const seed = JSON.parse(readFileSync(join(import.meta.dirname, '../../data/discount-routes.seed.json'), 'utf8')) as { default_campaign_route: string; routes: unknown[] };
const routes = seed.routes.map((r) => routeTemplateSchema.parse(r));
const at = Date.parse('2026-11-28T10:00:00Z');

/** Sizes tried in turn: a super-linear matcher fails at the smallest within seconds instead of running for hours at the largest. */
const SIZES = [4 * 1024, 16 * 1024, 64 * 1024, 256 * 1024];
/**
 * The largest size must match within this (inclusive), whatever the machine: a
 * super-linear matcher takes seconds there, while a linear one takes ~10 ms
 * alone and up to ~60 ms on a 2-core machine shared with other test runs, so the
 * bound sits well above the second and far below the first.
 */
const LIMIT_MS = 250;
/** Adversarial text may cost this many times plain text of the same length… */
const RATIO = 20;
/** …plus this, which absorbs timer resolution and a stray GC pause. */
const FLOOR_MS = 5;
/** The best of this many runs is taken, so one descheduled run cannot fail the test. */
const RUNS = 5;

/** `unit` repeated up to exactly `length` UTF-16 units. */
const fill = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

const ADVERSARIAL: Record<string, string> = {
  'yes send, never discount': 'yes send ',
  'yes, over and over': 'yes ',
  'words that almost match': 'yess send discoun yes sendd discountt ye send discount_ ',
  'yes and send glued to Devanagari': 'yesन sendन discounन ',
  'almost a decline': "don't need a discoun do not need any ",
  'almost a route': 'pune to mumbai airpor nagpur to raipu ',
  'almost a keyword': 'jobsx careerz diyaa hiringg ',
  'almost a request for a person': 'call talk baat agen humann call_ कॉल बात ',
  'first words of phrases, over and over': 'call call talk baat ',
  'a run of spaces': ' ',
  'a run of punctuation': '-.,!?/-_:;',
  'digits with commas': '1,2,3,4,5,',
  'currency marks': '₹rs.inr/-rs ',
  'at signs': '@',
  'Devanagari': 'नमस्ते मेरा पेमेंट अभी तक नहीं आया ',
  'one endless word': 'y',
};
const PLAIN = 'hello there how are you doing today ';

const message: DiscountInbound = { id: 'm', at, kind: 'text', text: '' };
/** Everything that matches customer text: normalizing it, and classifying it as typed text, as a button payload and as a reply id. */
const OPERATIONS: Record<string, (s: string) => unknown> = {
  normalize: (s) => normalize(s),
  'classify text': (s) => classify({ ...message, text: s }, routes, seed.default_campaign_route),
  'classify button payload': (s) => classify({ ...message, kind: 'button', buttonPayload: s }, routes, seed.default_campaign_route),
  'classify reply id': (s) => classify({ ...message, kind: 'interactive', interactiveReplyId: s }, routes, seed.default_campaign_route),
};

/** The best of up to RUNS timings of `f` in milliseconds, stopping at the first within `bound`. */
function best(f: () => unknown, bound = 0): number {
  let min = Infinity;
  for (let i = 0; i < RUNS && min > bound; i++) {
    const start = performance.now();
    f();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

describe('discount matching time', () => {
  it('matches adversarial customer text in time linear in its length, like plain text of the same length', () => {
    for (const op of Object.values(OPERATIONS)) op(fill(PLAIN, 4096)); // warm the JIT up before anything is timed
    for (const size of SIZES) {
      const plainText = fill(PLAIN, size);
      for (const [opName, op] of Object.entries(OPERATIONS)) {
        const plain = best(() => op(plainText));
        for (const [name, unit] of Object.entries(ADVERSARIAL)) {
          const text = fill(unit, size);
          const bound = Math.min(RATIO * plain + FLOOR_MS, size === SIZES.at(-1) ? LIMIT_MS : Infinity);
          const took = best(() => op(text), bound);
          const label = `${opName}, ${name}, ${size / 1024} KiB: ${took.toFixed(1)} ms, plain text ${plain.toFixed(1)} ms`;
          assert.ok(took <= bound, label);
        }
      }
    }
  });
});
