/**
 * The update that turns a stored document into its next version, writing
 * only what changed: an actor's save otherwise rewrites its whole chat
 * document (summary and record, ~3 KB, ~6 KB for a long chat) for a message
 * that changes a few hundred bytes of it.
 */

import { sameAsStored } from './fast-update.ts';

type Doc = Record<string, unknown>;

export interface DeltaShape {
  /** Objects compared field by field (their changed fields are set by dotted path); any other changed field is set whole. */
  descend: readonly string[];
  /** Arrays that only grow at the end and keep their last n (an applied-ids window, a history): sent as `$push` with `$slice`. */
  appendOnly: readonly string[];
}

export type Delta = { $set: Doc; $push?: Doc };

/**
 * `$set` (and `$push`) taking `before` to `after`, or undefined when that
 * needs more than these operators (a field removed, an array rewritten
 * rather than appended to): then write the document whole.
 */
export function docDelta(before: Doc, after: Doc, shape: DeltaShape): Delta | undefined {
  const $set: Doc = {};
  const $push: Doc = {};
  if (!diff(before, after, '', shape, $set, $push)) return undefined;
  return Object.keys($push).length ? { $set, $push } : { $set };
}

function diff(before: Doc, after: Doc, prefix: string, shape: DeltaShape, $set: Doc, $push: Doc): boolean {
  for (const key in before) if (Object.hasOwn(before, key) && before[key] !== undefined && after[key] === undefined) return false;
  for (const key in after) {
    const value = after[key];
    if (!Object.hasOwn(after, key) || value === undefined) continue;
    const old = before[key];
    if (old === value) continue;
    const path = prefix + key;
    // An object compared field by field is not compared whole first (that walked each changed subtree twice).
    if (shape.descend.includes(path) && isPlainObject(old) && isPlainObject(value)) {
      if (!diff(old, value, `${path}.`, shape, $set, $push)) return false;
    } else if (sameAsStored(old, value)) {
      continue;
    } else if (shape.appendOnly.includes(path) && Array.isArray(old) && Array.isArray(value)) {
      const added = appended(old, value);
      if (added === undefined) $set[path] = value;
      else $push[path] = { $each: added, $slice: -value.length };
    } else {
      $set[path] = value;
    }
  }
  return true;
}

/**
 * The fewest items appended to `before` that, keeping its last `after.length`, give `after`; undefined when
 * none short of all of `after` do (then setting it whole is smaller).
 */
function appended(before: readonly unknown[], after: readonly unknown[]): unknown[] | undefined {
  const n = after.length;
  // k appended items fit when the `n - k` items `before` keeps (its last ones) are `after`'s first; compared in place.
  for (let k = 1; k < n; k++) {
    const kept = n - k;
    if (kept > before.length) continue;
    let same = true;
    for (let i = 0, from = before.length - kept; same && i < kept; i++) same = sameAsStored(before[from + i], after[i]);
    if (same) return after.slice(kept);
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp);
}
