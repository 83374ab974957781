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
  fields: string[];
  owners: Map<string, string>; // index key → _id
}

class MemoryCollection implements Collection<Doc> {
  private docs = new Map<string, AnyObject>();
  private readonly unique: UniqueIndex[] = [];

  constructor(
    private readonly store: MemoryStore,
    private readonly name: string,
  ) {}

  all(): AnyObject[] {
    return [...this.docs.values()];
  }

  clear(): void {
    this.docs = new Map();
    for (const ix of this.unique) ix.owners.clear();
  }

  addIndex(spec: IndexSpec): void {
    if (!spec.unique || this.unique.some((ix) => ix.spec.name === spec.name)) return;
    const ix: UniqueIndex = { spec, fields: Object.keys(spec.keys), owners: new Map() };
    for (const [id, doc] of this.docs) {
      const key = indexKey(ix, doc);
      if (key === undefined) continue;
      if (ix.owners.has(key)) throw duplicate(this.name, spec.name);
      ix.owners.set(key, id);
    }
    this.unique.push(ix);
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
    return this.matching(filter, {}).length;
  }

  async updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    this.store.assertOpen();
    const [target] = this.matching(filter, { limit: 1 });
    if (target) return { matched: 1, modified: this.modify(target, update) ? 1 : 0 };
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
      const before = clone(target);
      this.modify(target, update);
      result = options.returnDocument === 'after' ? target : before;
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
    const out = guard(() =>
      new Aggregator(pipeline, { collectionResolver: (name: string) => this.store.resolve(name) }).run(this.all()),
    );
    return out.map((d) => clone(d) as R);
  }

  /** Live (uncloned) documents matching the filter, sorted and sliced. */
  private matching(filter: Filter, options: FindOptions): AnyObject[] {
    return guard(() => {
      const id = filter._id;
      if (typeof id === 'string' && Object.keys(filter).length === 1) {
        const doc = this.docs.get(id);
        return doc ? [doc] : [];
      }
      let cursor = new Query(filter).find<AnyObject>(this.candidates(filter));
      if (options.sort) cursor = cursor.sort(options.sort);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.limit) cursor = cursor.limit(options.limit);
      return cursor.all();
    });
  }

  /**
   * The documents a filter can match, found the way MongoDB's indexes would
   * find them: a string `_id`, or equality on a single-field unique index, is a
   * map lookup (the rest of the filter is then tested on that one document);
   * anything else is a scan. Without this every actor save — `{_id, version}`
   * — would scan every chat.
   */
  private candidates(filter: Filter): AnyObject[] {
    if (typeof filter._id === 'string') {
      const doc = this.docs.get(filter._id);
      return doc ? [doc] : [];
    }
    for (const ix of this.unique) {
      if (ix.fields.length !== 1) continue;
      const value = filter[ix.fields[0]!];
      if (typeof value !== 'string' && typeof value !== 'number') continue;
      const id = ix.owners.get(JSON.stringify([value]));
      const doc = id === undefined ? undefined : this.docs.get(id);
      return doc ? [doc] : [];
    }
    return this.all();
  }

  /** Applies a MongoDB update to a live document; reverts it if a unique index would break. */
  private modify(target: AnyObject, update: Update): boolean {
    const { $setOnInsert: _ignored, ...modifier } = update;
    if (Object.keys(modifier).length === 0) return false;
    const before = clone(target);
    const changed = guard(() => applyModifier(target, modifier, undefined, undefined, { cloneMode: 'deep' }));
    if (changed.length === 0) return false;
    if (target._id !== before._id) {
      Object.assign(target, before);
      throw new StoreError('bad_query', "the field '_id' is immutable");
    }
    try {
      this.reindex(target, before);
    } catch (err) {
      for (const k of Object.keys(target)) delete target[k];
      Object.assign(target, before);
      throw err;
    }
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
    if (Object.keys(modifier).length) guard(() => applyModifier(doc, modifier, undefined, undefined, { cloneMode: 'deep' }));
    doc._id ??= newId();
    this.put(doc, undefined);
    return doc;
  }

  private put(doc: AnyObject, before: AnyObject | undefined): void {
    const id = doc._id as string;
    if (before === undefined && this.docs.has(id)) throw duplicate(this.name, '_id_');
    this.reindex(doc, before);
    this.docs.set(id, doc);
  }

  private remove(doc: AnyObject): void {
    this.docs.delete(doc._id as string);
    for (const ix of this.unique) {
      const key = indexKey(ix, doc);
      if (key !== undefined && ix.owners.get(key) === doc._id) ix.owners.delete(key);
    }
  }

  /** Moves a document's unique-index entries from `before` to `doc`, checking every index first. */
  private reindex(doc: AnyObject, before: AnyObject | undefined): void {
    const id = doc._id as string;
    const moves = this.unique.map((ix) => ({ ix, old: before && indexKey(ix, before), now: indexKey(ix, doc) }));
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

function indexKey(ix: UniqueIndex, doc: AnyObject): string | undefined {
  const values = ix.fields.map((f) => valueAt(doc, f));
  if (ix.spec.sparse && values.every((v) => v === undefined)) return undefined;
  return JSON.stringify(values.map((v) => (v === undefined ? null : v)));
}

function valueAt(doc: AnyObject, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function project(doc: AnyObject, projection: Record<string, 0 | 1>): AnyObject {
  return new Query({}).find<AnyObject>([doc], projection).all()[0] ?? {};
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

/**
 * A deep copy that drops `undefined` properties, as BSON serialisation does
 * (the mongo driver runs with `ignoreUndefined`), so both drivers return the same shapes.
 */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : clone(x))) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: AnyObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clone(x);
    return out as T;
  }
  return v;
}
