/**
 * The memory store's fast path for the filters the product writes on every
 * event (`{_id, 'actor.version', $or: [fence…]}`, `{customer}`, `{chat_id, seq: {$gt}}`):
 * compiled to plain comparisons instead of a mingo `Query`, whose set-up alone
 * (copying its operator tables) cost more than the whole comparison.
 *
 * Only unambiguous cases are decided here. A filter this module does not
 * understand compiles to `undefined`, and a document whose path crosses an
 * array (where MongoDB's element-wise rules apply) answers `undefined`: the
 * caller then asks mingo, so results never differ from the general evaluator.
 */

type AnyObject = Record<string, unknown>;

/** true / false, or undefined when this document needs the general evaluator. */
export type Matcher = (doc: AnyObject) => boolean | undefined;

/** The operand types compared here: everything else (null, regex, objects, arrays) goes to mingo. */
type Scalar = string | number | boolean | Date;

const ARRAY = Symbol('crosses an array');

export function compileFilter(filter: AnyObject): Matcher | undefined {
  const parts: Matcher[] = [];
  for (const [key, value] of Object.entries(filter)) {
    let m: Matcher | undefined;
    if (key === '$or' || key === '$and') m = compileLogical(key, value);
    else if (key.startsWith('$')) return undefined;
    else m = compileField(key, value);
    if (!m) return undefined;
    parts.push(m);
  }
  return all(parts);
}

function compileLogical(op: '$or' | '$and', value: unknown): Matcher | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const subs: Matcher[] = [];
  for (const sub of value) {
    if (!isPlainObject(sub)) return undefined;
    const m = compileFilter(sub);
    if (!m) return undefined;
    subs.push(m);
  }
  return op === '$and' ? all(subs) : any(subs);
}

/** The path's segments; undefined when an empty or numeric one (an array index) leaves it to mingo. */
function segmentsOf(path: string): string[] | undefined {
  const segments = path.includes('.') ? path.split('.') : [path];
  return segments.some((s) => s === '' || /^\d+$/.test(s)) ? undefined : segments;
}

function compileField(path: string, operand: unknown): Matcher | undefined {
  const segments = segmentsOf(path);
  if (!segments) return undefined;
  const tests: ((v: unknown) => boolean)[] = [];
  if (isScalar(operand)) {
    tests.push((v) => same(v, operand));
  } else if (isPlainObject(operand) && Object.keys(operand).length > 0 && Object.keys(operand).every((k) => k.startsWith('$'))) {
    for (const [op, arg] of Object.entries(operand)) {
      const t = compileOperator(op, arg);
      if (!t) return undefined;
      tests.push(t);
    }
  } else {
    return undefined;
  }
  return (doc) => {
    const v = lookup(doc, segments);
    if (v === ARRAY) return undefined;
    for (const t of tests) if (!t(v)) return false;
    return true;
  };
}

function compileOperator(op: string, arg: unknown): ((v: unknown) => boolean) | undefined {
  return supportsOperator(op, arg) ? (v) => testOperator(op, arg, v) : undefined;
}

/** Whether `op` with `arg` is decided here (otherwise mingo decides, or refuses it). */
function supportsOperator(op: string, arg: unknown): boolean {
  switch (op) {
    case '$eq':
    case '$ne':
      return isScalar(arg);
    case '$exists':
      return typeof arg === 'boolean';
    case '$in':
    case '$nin':
      return Array.isArray(arg) && arg.every(isScalar);
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      return typeof arg === 'number' || typeof arg === 'string' || arg instanceof Date;
    default:
      return false;
  }
}

/** A supported operator (`supportsOperator`) on the value found at its path. */
function testOperator(op: string, arg: unknown, v: unknown): boolean {
  switch (op) {
    case '$eq':
      return same(v, arg as Scalar);
    case '$ne':
      return !same(v, arg as Scalar);
    case '$exists':
      return (v !== undefined) === arg;
    case '$in':
      return (arg as Scalar[]).some((x) => same(v, x));
    case '$nin':
      return !(arg as Scalar[]).some((x) => same(v, x));
    default: {
      const cmp = comparator(op as '$lt' | '$lte' | '$gt' | '$gte');
      // MongoDB compares within one type bracket only: a string is never $lt a number.
      if (typeof arg === 'number') return typeof v === 'number' && cmp(v, arg);
      if (typeof arg === 'string') return typeof v === 'string' && cmp(v, arg);
      return v instanceof Date && cmp(v.getTime(), (arg as Date).getTime());
    }
  }
}

/** A filter this module does not decide (`compileFilter` would give undefined). */
const UNSUPPORTED = Symbol('unsupported filter');

/**
 * The compiled matcher's answer for one document, without compiling: for a
 * lookup that found a single candidate (an `_id`, a unique key) building the
 * closures cost more than the comparison. Undefined exactly where
 * `compileFilter(filter)` is undefined or its matcher answers undefined.
 */
export function matchOnce(filter: AnyObject, doc: AnyObject): boolean | undefined {
  const r = evaluate(filter, doc);
  return r === UNSUPPORTED ? undefined : r;
}

function evaluate(filter: AnyObject, doc: AnyObject): boolean | undefined | typeof UNSUPPORTED {
  // As `all`: false wins over undefined; every part is still checked, so a filter mingo would refuse goes to it.
  let result: boolean | undefined = true;
  for (const key in filter) {
    if (!Object.hasOwn(filter, key)) continue;
    const value = filter[key];
    let r: boolean | undefined | typeof UNSUPPORTED;
    if (key === '$or' || key === '$and') r = evaluateLogical(key, value, doc);
    else if (key.startsWith('$')) return UNSUPPORTED;
    else r = evaluateField(key, value, doc);
    if (r === UNSUPPORTED) return UNSUPPORTED;
    if (r === false) result = false;
    else if (r === undefined && result === true) result = undefined;
  }
  return result;
}

function evaluateLogical(op: '$or' | '$and', value: unknown, doc: AnyObject): boolean | undefined | typeof UNSUPPORTED {
  if (!Array.isArray(value) || value.length === 0) return UNSUPPORTED;
  const answers: (boolean | undefined)[] = [];
  for (const sub of value) {
    if (!isPlainObject(sub)) return UNSUPPORTED;
    const r = evaluate(sub, doc);
    if (r === UNSUPPORTED) return UNSUPPORTED;
    answers.push(r);
  }
  if (op === '$and') return answers.includes(false) ? false : answers.includes(undefined) ? undefined : true;
  return answers.includes(true) ? true : answers.includes(undefined) ? undefined : false;
}

function evaluateField(path: string, operand: unknown, doc: AnyObject): boolean | undefined | typeof UNSUPPORTED {
  const segments = segmentsOf(path);
  if (!segments) return UNSUPPORTED;
  if (isScalar(operand)) {
    const v = lookup(doc, segments);
    return v === ARRAY ? undefined : same(v, operand);
  }
  if (!isPlainObject(operand)) return UNSUPPORTED;
  let ops = 0;
  for (const op in operand) {
    if (!Object.hasOwn(operand, op)) continue;
    if (!op.startsWith('$') || !supportsOperator(op, operand[op])) return UNSUPPORTED;
    ops++;
  }
  if (ops === 0) return UNSUPPORTED;
  const v = lookup(doc, segments);
  if (v === ARRAY) return undefined;
  for (const op in operand) if (Object.hasOwn(operand, op) && !testOperator(op, operand[op], v)) return false;
  return true;
}

function comparator(op: '$lt' | '$lte' | '$gt' | '$gte'): <T extends number | string>(a: T, b: T) => boolean {
  switch (op) {
    case '$lt':
      return (a, b) => a < b;
    case '$lte':
      return (a, b) => a <= b;
    case '$gt':
      return (a, b) => a > b;
    case '$gte':
      return (a, b) => a >= b;
  }
}

/** The value at a dotted path; `ARRAY` when the path meets an array (element-wise matching is mingo's job). */
function lookup(doc: AnyObject, segments: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const s of segments) {
    if (Array.isArray(cur)) return ARRAY;
    if (!isPlainObject(cur)) return undefined;
    cur = cur[s];
  }
  return Array.isArray(cur) ? ARRAY : cur;
}

function same(v: unknown, operand: Scalar): boolean {
  if (operand instanceof Date) return v instanceof Date && v.getTime() === operand.getTime();
  return v === operand;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || (typeof v === 'number' && !Number.isNaN(v)) || typeof v === 'boolean' || v instanceof Date;
}

function isPlainObject(v: unknown): v is AnyObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp);
}

function all(ms: Matcher[]): Matcher {
  if (ms.length === 1) return ms[0]!;
  return (doc) => {
    let unknown = false;
    for (const m of ms) {
      const r = m(doc);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  };
}

function any(ms: Matcher[]): Matcher {
  return (doc) => {
    let unknown = false;
    for (const m of ms) {
      const r = m(doc);
      if (r === true) return true;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  };
}

/**
 * A top-level projection (`{actor: 0}`, `{state: 1}`) applied by copying
 * fields; undefined for anything else (dotted paths, operators, mixed modes).
 */
export function projectFast(doc: AnyObject, projection: Record<string, unknown>): AnyObject | undefined {
  const keys = Object.keys(projection);
  if (keys.some((k) => k.includes('.') || k.startsWith('$'))) return undefined;
  const modes = new Set(keys.filter((k) => k !== '_id').map((k) => projection[k]));
  if ([...modes, projection._id].some((m) => m !== undefined && m !== 0 && m !== 1 && m !== true && m !== false)) return undefined;
  if (modes.size > 1) return undefined;
  const including = modes.size === 1 ? [...modes][0] === 1 || [...modes][0] === true : false;
  const dropId = projection._id === 0 || projection._id === false;
  const out: AnyObject = {};
  if (including || (modes.size === 0 && !dropId && keys.length > 0)) {
    if (!dropId && '_id' in doc) out._id = doc._id;
    for (const k of keys) if (k !== '_id' && k in doc) out[k] = doc[k];
    return out;
  }
  for (const [k, v] of Object.entries(doc)) if (!(k in projection) || (k === '_id' && !dropId)) out[k] = v;
  return out;
}

/**
 * `sort` + `skip` + `limit` over documents whose sort fields hold one kind of
 * value each (numbers, strings or dates; missing and null sort first, as in
 * MongoDB). With a limit only the first `skip + limit` are kept while
 * scanning, instead of sorting every match. Undefined for anything else
 * (mixed kinds, arrays, sub-documents): mingo sorts those.
 */
export function sortFast(docs: readonly AnyObject[], sort: Record<string, 1 | -1>, skip = 0, limit = 0): AnyObject[] | undefined {
  const keys = Object.entries(sort).map(([path, dir]) => ({ segments: path.split('.'), dir }));
  const rows: { doc: AnyObject; values: (number | string | null)[] }[] = [];
  const kinds = keys.map(() => '');
  for (const doc of docs) {
    const values: (number | string | null)[] = [];
    for (const [i, k] of keys.entries()) {
      const v = lookup(doc, k.segments);
      if (v === undefined || v === null) {
        values.push(null);
        continue;
      }
      const kind = typeof v === 'number' ? 'n' : typeof v === 'string' ? 's' : v instanceof Date ? 'd' : 'other';
      if (kind === 'other' || (kinds[i] !== '' && kinds[i] !== kind)) return undefined;
      kinds[i] = kind;
      values.push(v instanceof Date ? v.getTime() : (v as number | string));
    }
    rows.push({ doc, values });
  }
  const compare = (a: (typeof rows)[number], b: (typeof rows)[number]): number => {
    for (const [i, k] of keys.entries()) {
      const x = a.values[i]!;
      const y = b.values[i]!;
      if (x === y) continue;
      const order = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return order * k.dir;
    }
    return 0;
  };
  const keep = limit > 0 ? skip + limit : Infinity;
  let out: typeof rows;
  if (keep >= rows.length / 4) {
    out = rows.sort(compare);
  } else {
    // Top-k: a sorted window of the best `keep`, entered by binary search; most rows lose to its last.
    out = [];
    for (const row of rows) {
      if (out.length === keep && compare(row, out[keep - 1]!) >= 0) continue;
      let lo = 0;
      let hi = out.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compare(out[mid]!, row) <= 0) lo = mid + 1;
        else hi = mid;
      }
      out.splice(lo, 0, row);
      if (out.length > keep) out.pop();
    }
  }
  return out.slice(skip, limit > 0 ? skip + limit : undefined).map((r) => r.doc);
}
