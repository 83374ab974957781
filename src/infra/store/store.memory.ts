import { Aggregator, Query, update as applyModifier } from 'mingo';
import {
  StoreError,
  newId,
  type Collection,
  type Doc,
  type DocumentStore,
  type Filter,
  type FindOneAndUpdateOptions,
  type FindOptions,
  type IndexSpec,
  type UpdateOptions,
  type UpdateResult,
  type Update,
} from './store.ts';
import { compileFilter, matchOnce, projectFast, sortFast, type Matcher } from './fast-query.ts';
import { applyUpdate, copy } from './fast-update.ts';

type AnyObject = Record<string, unknown>;

/**
 * In-process document store for embedded mode: MongoDB filters, updates and
 * pipelines evaluated by mingo; unique indexes enforced like MongoDB's.
 * Documents are cloned on the way in and out, so callers never share memory with it.
 */
export class MemoryStore implements DocumentStore {
  readonly kind = 'memory' as const;
  private readonly collections = new Map<string, MemoryCollection>();
  private closed = false;

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return this.table(name) as unknown as Collection<T>;
  }

  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of specs) this.table(spec.collection).addIndex(spec);
  }

  async dropIndexes(indexes: readonly { collection: string; name: string }[]): Promise<void> {
    this.assertOpen();
    for (const ix of indexes) this.collections.get(ix.collection)?.dropIndex(ix.name);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async dropAll(): Promise<void> {
    this.assertOpen();
    for (const c of this.collections.values()) c.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  assertOpen(): void {
    if (this.closed) throw new StoreError('closed', 'memory store is closed');
  }

  private table(name: string): MemoryCollection {
    let c = this.collections.get(name);
    if (!c) {
      c = new MemoryCollection(this, name);
      this.collections.set(name, c);
    }
    return c;
  }

  /** Resolves `$lookup` targets to the live documents of another collection. */
  resolve(name: string): AnyObject[] {
    return this.table(name).all();
  }
}

interface UniqueIndex {
  spec: IndexSpec;
  /** Each field's path, split once. */
  paths: string[][];
  owners: Map<string, string>; // index key → _id
}

/**
 * Equality lookups on the first field of an index (unique or not), as a
 * MongoDB index serves them: value → ids. Documents whose value there is an
 * array (which equality matches element-wise) are always candidates.
 */
interface FieldIndex {
  path: string;
  /** `path` split once. */
  parts: string[];
  byValue: Map<string, Set<string>>;
  arrays: Set<string>;
  /** A document changed value here: sets may no longer be in insertion order. */
  moved: boolean;
}

class MemoryCollection implements Collection<Doc> {
  private docs = new Map<string, AnyObject>();
  private unique: UniqueIndex[] = [];
  private readonly fields = new Map<string, FieldIndex>();
  /** First fields of declared indexes not built yet: each is built by the first equality lookup on it (a sort or range key never is). */
  private readonly unbuilt = new Set<string>();
  /** Insertion order, to return index candidates in the order a scan would. */
  private readonly order = new Map<string, number>();
  private inserted = 0;

  constructor(
    private readonly store: MemoryStore,
    private readonly name: string,
  ) {}

  all(): AnyObject[] {
    return [...this.docs.values()];
  }

  clear(): void {
    this.docs = new Map();
    this.order.clear();
    for (const ix of this.unique) ix.owners.clear();
    for (const f of this.fields.values()) {
      f.byValue.clear();
      f.arrays.clear();
    }
  }

  addIndex(spec: IndexSpec): void {
    const first = Object.keys(spec.keys)[0];
    if (first !== undefined && first !== '_id' && !this.fields.has(first)) this.unbuilt.add(first);
    if (!spec.unique || this.unique.some((ix) => ix.spec.name === spec.name)) return;
    const ix: UniqueIndex = { spec, paths: Object.keys(spec.keys).map((f) => f.split('.')), owners: new Map() };
    for (const [id, doc] of this.docs) {
      const key = indexKey(ix, doc);
      if (key === undefined) continue;
      if (ix.owners.has(key)) throw duplicate(this.name, spec.name);
      ix.owners.set(key, id);
    }
    this.unique.push(ix);
  }

  /** Forgets the unique index `name` (its field index only speeds lookups and stays). */
  dropIndex(name: string): void {
    this.unique = this.unique.filter((ix) => ix.spec.name !== name);
  }

  async insertOne(input: Doc): Promise<string> {
    this.store.assertOpen();
    const doc = clone(input) as AnyObject;
    doc._id ??= newId();
    this.put(doc, undefined);
    return doc._id as string;
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<Doc | null> {
    return (await this.find(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Doc[]> {
    this.store.assertOpen();
    const found = this.matching(filter, options);
    return found.map((d) => clone(options.projection ? project(d, options.projection) : d) as Doc);
  }

  async countDocuments(filter: Filter = {}): Promise<number> {
    this.store.assertOpen();
    if (Object.keys(filter).length === 0) return this.docs.size;
    return this.matching(filter, {}).length;
  }

  async updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    this.store.assertOpen();
    const [target] = this.matching(filter, { limit: 1 });
    if (target) return { matched: 1, modified: this.modify(target, update, options.handOver) ? 1 : 0 };
    if (!options.upsert) return { matched: 0, modified: 0 };
    return { matched: 0, modified: 0, upsertedId: this.upsert(filter, update)._id as string };
  }

  async updateMany(filter: Filter, update: Update): Promise<UpdateResult> {
    this.store.assertOpen();
    const targets = this.matching(filter, {});
    let modified = 0;
    for (const t of targets) if (this.modify(t, update)) modified++;
    return { matched: targets.length, modified };
  }

  async findOneAndUpdate(filter: Filter, update: Update, options: FindOneAndUpdateOptions = {}): Promise<Doc | null> {
    this.store.assertOpen();
    const [target] = this.matching(filter, { limit: 1, ...(options.sort ? { sort: options.sort } : {}) });
    let result: AnyObject | null;
    if (target) {
      this.modify(target, update);
      // Stored documents are replaced, never mutated: `target` is still the document before the update.
      result = options.returnDocument === 'after' ? this.docs.get(target._id as string)! : target;
    } else if (options.upsert) {
      const inserted = this.upsert(filter, update);
      result = options.returnDocument === 'after' ? inserted : null;
    } else {
      result = null;
    }
    if (!result) return null;
    return clone(options.projection ? project(result, options.projection) : result) as Doc;
  }

  async deleteOne(filter: Filter): Promise<number> {
    this.store.assertOpen();
    const [target] = this.matching(filter, { limit: 1 });
    if (!target) return 0;
    this.remove(target);
    return 1;
  }

  async deleteMany(filter: Filter): Promise<number> {
    this.store.assertOpen();
    const targets = this.matching(filter, {});
    for (const t of targets) this.remove(t);
    return targets.length;
  }

  async aggregate<R = Doc>(pipeline: Record<string, unknown>[]): Promise<R[]> {
    this.store.assertOpen();
    // A leading $match narrows the input the way an index would (the pipeline still applies it).
    const first = pipeline[0]?.$match;
    const input = isPlainObject(first) ? this.candidates(first) : this.all();
    const out = guard(() => new Aggregator(pipeline, { collectionResolver: (name: string) => this.store.resolve(name) }).run(input));
    return out.map((d) => clone(d) as R);
  }

  /** Live documents matching the filter, sorted and sliced. Never mutate them: replace (see modify). */
  private matching(filter: Filter, options: FindOptions): AnyObject[] {
    return guard(() => {
      const candidates = this.candidates(filter);
      // One candidate (an _id, a unique key: every actor save): evaluated as it stands, cheaper than compiling.
      const fast: Matcher | undefined = candidates.length === 1 ? (doc) => matchOnce(filter, doc) : compileFilter(filter);
      let slow: Query | undefined;
      const matches = (doc: AnyObject) => fast?.(doc) ?? (slow ??= new Query(filter)).test(doc);
      if (!options.sort) {
        const skip = options.skip ?? 0;
        const stopAt = options.limit ? skip + options.limit : Infinity;
        const found: AnyObject[] = [];
        for (const doc of candidates) {
          if (matches(doc)) found.push(doc);
          if (found.length >= stopAt) break;
        }
        return skip ? found.slice(skip) : found;
      }
      const matched = candidates.filter(matches);
      const sorted = sortFast(matched, options.sort, options.skip, options.limit);
      if (sorted) return sorted;
      let cursor = new Query({}).find<AnyObject>(matched);
      cursor = cursor.sort(options.sort);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.limit) cursor = cursor.limit(options.limit);
      return cursor.all();
    });
  }

  /**
   * The documents a filter can match, found the way MongoDB's indexes would
   * find them: a string `_id` (or `_id: {$in: [strings]}`) is a map lookup; equality on the first field of
   * an index gives that value's documents (the smallest such set wins);
   * anything else is a scan. Without this every actor save — `{_id, version}` —
   * and every message lookup — `{chat_id, …}` — would scan the collection.
   */
  private candidates(filter: Filter): AnyObject[] {
    const id = filter._id;
    if (typeof id === 'string') {
      const doc = this.docs.get(id);
      return doc ? [doc] : [];
    }
    if (isPlainObject(id) && Object.keys(id).length === 1 && Array.isArray(id.$in) && id.$in.every((x) => typeof x === 'string')) {
      const ids = [...new Set(id.$in as string[])].filter((x) => this.docs.has(x));
      return ids.sort((a, b) => this.order.get(a)! - this.order.get(b)!).map((x) => this.docs.get(x)!);
    }
    for (const path of this.unbuilt) if (scalarKey(filter[path]) !== undefined) this.buildFieldIndex(path);
    let best: string[] | undefined;
    for (const f of this.fields.values()) {
      const key = scalarKey(filter[f.path]);
      if (key === undefined) continue;
      const ids = f.byValue.get(key);
      const size = (ids?.size ?? 0) + f.arrays.size;
      if (best !== undefined && size >= best.length) continue;
      best = [...(ids ?? []), ...f.arrays];
      if (f.arrays.size > 0 || f.moved) best.sort((a, b) => this.order.get(a)! - this.order.get(b)!);
    }
    if (best === undefined) return this.all();
    return best.map((id) => this.docs.get(id)!);
  }

  /** Indexes `path` over the documents stored so far; from now on every write keeps it. */
  private buildFieldIndex(path: string): void {
    const f: FieldIndex = { path, parts: path.split('.'), byValue: new Map(), arrays: new Set(), moved: false };
    for (const [id, doc] of this.docs) fieldIndexAdd(f, id, doc);
    // Built in insertion order: its sets start sorted the way a scan returns documents.
    this.fields.set(path, f);
    this.unbuilt.delete(path);
  }

  /**
   * Applies a MongoDB update by replacing the stored document with an updated
   * copy (the fast path for plain $set/$inc/$unset/$max/$min, mingo for the
   * rest); nothing is replaced if a unique index would break.
   */
  private modify(target: AnyObject, update: Update, handOver = false): boolean {
    const { $setOnInsert: _ignored, ...modifier } = update;
    if (Object.keys(modifier).length === 0) return false;
    let next: AnyObject;
    const fast = applyUpdate(target, modifier, handOver);
    if (fast) {
      if (!fast.changed) return false;
      next = fast.next;
    } else {
      next = clone(target);
      const changed = guard(() => applyModifier(next, modifier, undefined, undefined, { cloneMode: 'deep' }));
      if (changed.length === 0) return false;
      if (next._id !== target._id) throw new StoreError('bad_query', "the field '_id' is immutable");
    }
    this.put(next, target);
    return true;
  }

  private upsert(filter: Filter, update: Update): AnyObject {
    const doc: AnyObject = {};
    for (const [k, v] of Object.entries(filter)) {
      if (k.startsWith('$') || k.includes('.')) continue;
      if (isPlainObject(v) && Object.keys(v).some((op) => op.startsWith('$'))) {
        if ('$eq' in v) doc[k] = clone(v.$eq);
        continue;
      }
      doc[k] = clone(v);
    }
    const { $setOnInsert, ...rest } = update;
    const modifier = { ...rest, ...($setOnInsert ? { $set: { ...(rest.$set as AnyObject), ...($setOnInsert as AnyObject) } } : {}) };
    let inserted = doc;
    if (Object.keys(modifier).length) {
      // The fast path first: mingo's updater set up its operator context per call, which made every
      // first contact (a conversation upsert) cost milliseconds.
      const fast = applyUpdate(doc, modifier);
      if (fast) inserted = fast.next;
      else guard(() => applyModifier(doc, modifier, undefined, undefined, { cloneMode: 'deep' }));
    }
    inserted._id ??= newId();
    this.put(inserted, undefined);
    return inserted;
  }

  /** Stores `doc` (new, or replacing `before`), moving its index entries; checks unique indexes first. */
  private put(doc: AnyObject, before: AnyObject | undefined): void {
    const id = doc._id as string;
    if (before === undefined && this.docs.has(id)) throw duplicate(this.name, '_id_');
    this.reindex(doc, before);
    for (const f of this.fields.values()) {
      if (before !== undefined) {
        // Updates share what they leave unchanged with the document before (copy-on-write): the same value, no work.
        if (valueAt(before, f.parts) === valueAt(doc, f.parts) || valueKey(f, before) === valueKey(f, doc)) continue;
        fieldIndexRemove(f, id, before);
        f.moved = true;
      }
      fieldIndexAdd(f, id, doc);
    }
    if (before === undefined) this.order.set(id, this.inserted++);
    this.docs.set(id, doc);
  }

  private remove(doc: AnyObject): void {
    const id = doc._id as string;
    this.docs.delete(id);
    this.order.delete(id);
    for (const ix of this.unique) {
      const key = indexKey(ix, doc);
      if (key !== undefined && ix.owners.get(key) === id) ix.owners.delete(key);
    }
    for (const f of this.fields.values()) fieldIndexRemove(f, id, doc);
  }

  /** Moves a document's unique-index entries from `before` to `doc`, checking every index first. */
  private reindex(doc: AnyObject, before: AnyObject | undefined): void {
    const id = doc._id as string;
    const moved = before === undefined ? this.unique : this.unique.filter((ix) => ix.paths.some((p) => valueAt(before, p) !== valueAt(doc, p)));
    const moves = moved.map((ix) => ({ ix, old: before && indexKey(ix, before), now: indexKey(ix, doc) }));
    for (const { ix, now } of moves) {
      const owner = now === undefined ? undefined : ix.owners.get(now);
      if (owner !== undefined && owner !== id) throw duplicate(this.name, ix.spec.name);
    }
    for (const { ix, old, now } of moves) {
      if (old !== undefined && ix.owners.get(old) === id) ix.owners.delete(old);
      if (now !== undefined) ix.owners.set(now, id);
    }
  }
}

/** The map key of an equality operand an index can serve (string, number, boolean, date); undefined otherwise. */
function scalarKey(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return `s${v}`;
    case 'number':
      return Number.isNaN(v) ? undefined : `n${v}`;
    case 'boolean':
      return `b${v}`;
    default:
      return v instanceof Date ? `d${v.getTime()}` : undefined;
  }
}

/** A document's entry in a field index: its value's key, `arrays`, or none (missing, null, an object). */
function valueKey(f: FieldIndex, doc: AnyObject): string | typeof ARRAY_ENTRY | undefined {
  let cur: unknown = doc;
  for (const part of f.parts) {
    if (Array.isArray(cur)) return ARRAY_ENTRY;
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return Array.isArray(cur) ? ARRAY_ENTRY : scalarKey(cur);
}

const ARRAY_ENTRY = Symbol('array');

function fieldIndexAdd(f: FieldIndex, id: string, doc: AnyObject): void {
  const key = valueKey(f, doc);
  if (key === ARRAY_ENTRY) f.arrays.add(id);
  else if (key !== undefined) {
    let ids = f.byValue.get(key);
    if (!ids) f.byValue.set(key, (ids = new Set()));
    ids.add(id);
  }
}

function fieldIndexRemove(f: FieldIndex, id: string, doc: AnyObject): void {
  const key = valueKey(f, doc);
  if (key === ARRAY_ENTRY) f.arrays.delete(id);
  else if (key !== undefined) {
    const ids = f.byValue.get(key);
    ids?.delete(id);
    if (ids?.size === 0) f.byValue.delete(key);
  }
}

function indexKey(ix: UniqueIndex, doc: AnyObject): string | undefined {
  const values = ix.paths.map((p) => valueAt(doc, p));
  if (ix.spec.sparse && values.every((v) => v === undefined)) return undefined;
  return JSON.stringify(values.map((v) => (v === undefined ? null : v)));
}

function valueAt(doc: AnyObject, parts: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const part of parts) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function project(doc: AnyObject, projection: Record<string, 0 | 1>): AnyObject {
  return projectFast(doc, projection) ?? new Query({}).find<AnyObject>([doc], projection).all()[0] ?? {};
}

function duplicate(collection: string, index: string): StoreError {
  return new StoreError('duplicate_key', `E11000 duplicate key error collection: ${collection} index: ${index}`);
}

/** Runs mingo, turning its errors (unknown operator, bad path) into bad_query. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('bad_query', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function isPlainObject(v: unknown): v is AnyObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const clone = copy;
