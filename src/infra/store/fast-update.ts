/**
 * The memory store's fast path for the updates the product writes on every
 * event (`$set` of summary fields and the actor record, `$push` with `$each`
 * and `$slice` to its applied-ids and history windows, `$inc`, `$unset`,
 * `$max`/`$min`): applied copy-on-write, so the stored document is replaced,
 * never mutated — the old one stays intact for index bookkeeping and needs no
 * defensive deep copy. mingo's updater set up a fresh operator context and
 * deep-copied the document on every call.
 *
 * Anything this module does not handle exactly like MongoDB (array paths,
 * positional operators, conflicting paths, type errors) returns undefined and
 * goes to mingo.
 */

type AnyObject = Record<string, unknown>;

const OPERATORS = new Set(['$set', '$unset', '$inc', '$max', '$min', '$push']);

/** The updated copy and whether anything changed; undefined when mingo must apply it. */
export function applyUpdate(doc: AnyObject, modifier: AnyObject, handOver = false): { next: AnyObject; changed: boolean } | undefined {
  const fields = onlyTopLevelSet(modifier);
  if (fields) return setTopLevel(doc, fields, handOver);
  const steps: { op: string; path: string[]; arg: unknown }[] = [];
  // Within one operator plain fields cannot repeat (they are an object's keys): only dotted paths, or several
  // operators, need the conflict check.
  let dotted = false;
  let operators = 0;
  for (const op in modifier) {
    if (!Object.hasOwn(modifier, op)) continue;
    const fields = modifier[op];
    if (!OPERATORS.has(op) || !isPlainObject(fields)) return undefined;
    operators++;
    for (const path in fields) {
      if (!Object.hasOwn(fields, path)) continue;
      const segments = path.includes('.') ? path.split('.') : [path];
      if (segments.length > 1) dotted = true;
      if (segments[0] === '_id' || segments.some(unsupportedSegment)) return undefined;
      steps.push({ op, path: segments, arg: fields[path] });
    }
  }
  if ((dotted || operators > 1) && conflicting(steps)) return undefined;

  const next: AnyObject = { ...doc };
  const fresh = new Set<AnyObject>([next]);
  let changed = false;
  for (const { op, path, arg } of steps) {
    // $unset never creates the levels it would remove from.
    if (op === '$unset' && !reaches(next, path)) continue;
    const parent = writableParent(next, path, fresh);
    if (!parent) return undefined;
    const leaf = path[path.length - 1]!;
    const old = parent[leaf];
    if (Array.isArray(old) && op !== '$set' && op !== '$unset' && op !== '$push') return undefined;
    switch (op) {
      case '$set':
        if (setValue(parent, leaf, arg, handOver, changed)) changed = true;
        break;
      case '$push': {
        const items = pushed(arg);
        if (!items || (old !== undefined && !Array.isArray(old))) return undefined;
        const grown = [...((old as unknown[] | undefined) ?? []), ...items.each.map(copy)];
        parent[leaf] = items.slice === undefined ? grown : items.slice < 0 ? grown.slice(items.slice) : grown.slice(0, items.slice);
        changed = true;
        break;
      }
      case '$unset':
        if (leaf in parent) {
          delete parent[leaf];
          changed = true;
        }
        break;
      case '$inc':
        if (typeof arg !== 'number' || (old !== undefined && typeof old !== 'number')) return undefined;
        if (old === undefined || arg !== 0) changed = true;
        parent[leaf] = ((old as number | undefined) ?? 0) + arg;
        break;
      case '$max':
      case '$min': {
        if (old === undefined) {
          parent[leaf] = copy(arg);
          changed = true;
          break;
        }
        const a = comparable(old);
        const b = comparable(arg);
        if (a === undefined || b === undefined || typeof a !== typeof b || (old instanceof Date) !== (arg instanceof Date)) return undefined;
        if (op === '$max' ? b > a : b < a) {
          parent[leaf] = copy(arg);
          changed = true;
        }
        break;
      }
    }
  }
  return changed ? { next, changed } : { next: doc, changed };
}

/**
 * The fields of a modifier that is one `$set` of top-level fields (every actor
 * save: the whole summary and record), or undefined. No path can conflict
 * with another there, and no level needs copying.
 */
function onlyTopLevelSet(modifier: AnyObject): AnyObject | undefined {
  let fields: unknown;
  for (const op in modifier) {
    if (!Object.hasOwn(modifier, op)) continue;
    if (op !== '$set' || fields !== undefined) return undefined;
    fields = modifier[op];
  }
  if (!isPlainObject(fields)) return undefined;
  for (const path in fields) {
    if (!Object.hasOwn(fields, path)) continue;
    if (path === '_id' || path.includes('.') || unsupportedSegment(path)) return undefined;
  }
  return fields;
}

function setTopLevel(doc: AnyObject, fields: AnyObject, handOver: boolean): { next: AnyObject; changed: boolean } {
  const next: AnyObject = { ...doc };
  let changed = false;
  for (const path in fields) {
    if (Object.hasOwn(fields, path) && setValue(next, path, fields[path], handOver, changed)) changed = true;
  }
  return changed ? { next, changed } : { next: doc, changed };
}

/**
 * `$set` of one field: the value as stored (undefined dropped, as the driver's
 * ignoreUndefined does; copied unless handed over). Whether it changed the
 * field — not compared once the document is known to have changed.
 */
function setValue(parent: AnyObject, leaf: string, arg: unknown, handOver: boolean, alreadyChanged: boolean): boolean {
  if (arg === undefined) return false;
  const value = handOver ? arg : copy(arg);
  const changed = !alreadyChanged && !sameAsStored(parent[leaf], value);
  parent[leaf] = value;
  return changed;
}

/** A `$push` argument: one item, or `$each` with an optional integer `$slice` (other modifiers go to mingo). */
function pushed(arg: unknown): { each: unknown[]; slice?: number } | undefined {
  if (!isPlainObject(arg) || !Object.keys(arg).some((k) => k.startsWith('$'))) return { each: [arg] };
  const { $each, $slice, ...rest } = arg;
  if (Object.keys(rest).length || !Array.isArray($each)) return undefined;
  if ($slice === undefined) return { each: $each };
  return Number.isInteger($slice) ? { each: $each, slice: $slice as number } : undefined;
}

/** The object holding the path's last segment, copying each level once; undefined across an array or a scalar. */
function writableParent(root: AnyObject, path: readonly string[], fresh: Set<AnyObject>): AnyObject | undefined {
  let cur = root;
  for (let i = 0; i < path.length - 1; i++) {
    const s = path[i]!;
    const child = cur[s];
    if (child === undefined) {
      const made: AnyObject = {};
      fresh.add(made);
      cur[s] = made;
      cur = made;
    } else if (isPlainObject(child)) {
      if (fresh.has(child)) {
        cur = child;
      } else {
        const made = { ...child };
        fresh.add(made);
        cur[s] = made;
        cur = made;
      }
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Whether every level above the path's last segment exists (as an object). */
function reaches(root: AnyObject, path: readonly string[]): boolean {
  let cur: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const s = path[i]!;
    if (!isPlainObject(cur)) return false;
    cur = cur[s];
  }
  return isPlainObject(cur);
}

/** A path segment this module leaves to mingo: empty, an operator, or an array index. */
function unsupportedSegment(s: string): boolean {
  if (s === '' || s.charCodeAt(0) === 36 /* $ */) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** MongoDB refuses an update where one path is another's prefix ("would create a conflict"). */
function conflicting(steps: readonly { path: string[] }[]): boolean {
  if (!steps.some((s) => s.path.length > 1)) {
    // Plain fields: a conflict is the same field twice (under two operators).
    const seen = new Set<string>();
    for (const s of steps) {
      if (seen.has(s.path[0]!)) return true;
      seen.add(s.path[0]!);
    }
    return false;
  }
  const sorted = steps.map((s) => s.path.join('.')).sort();
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (sorted[i] === prev || sorted[i]!.startsWith(`${prev}.`)) return true;
  }
  return false;
}

function comparable(v: unknown): number | string | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.getTime();
  return undefined;
}

function isPlainObject(v: unknown): v is AnyObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp);
}

/** A deep copy that drops `undefined` properties (as BSON serialisation does). */
export function copy<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : copy(x))) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: AnyObject = {};
    for (const k in v) {
      const x = v[k];
      if (x !== undefined) out[k] = copy(x);
    }
    return out as T;
  }
  return v;
}

/** Equal as stored: BSON drops undefined fields, and dates compare by instant. */
export function sameAsStored(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  // Loops, not keys().filter().every(): every save compares its document, and the copies were a large share of the pod's garbage.
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameAsStored(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    // Every defined field of `a` equal in `b` (so defined there too), and `b` defining no more fields than `a`.
    let defined = 0;
    for (const k in a) {
      if (!Object.hasOwn(a, k) || a[k] === undefined) continue;
      defined++;
      if (!sameAsStored(a[k], b[k])) return false;
    }
    for (const k in b) if (Object.hasOwn(b, k) && b[k] !== undefined && --defined < 0) return false;
    return defined === 0;
  }
  return false;
}
