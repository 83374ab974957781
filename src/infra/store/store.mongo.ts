import { GridFSBucket, MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
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
import { InsertBatcher } from './insert-batcher.ts';
import { UpdateBatcher } from './update-batcher.ts';

export interface MongoStoreOptions {
  url: string;
  dbName: string;
  /** How long an operation waits for a reachable server before failing (spec §10.2: 5 s). */
  serverSelectionTimeoutMS?: number;
  maxPoolSize?: number;
}

/** The document store on MongoDB through the official driver. */
export class MongoStore implements DocumentStore {
  readonly kind = 'mongodb' as const;
  private closed = false;
  private readonly batchers = new Map<string, InsertBatcher>();
  private readonly updaters = new Map<string, UpdateBatcher>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /** Connects and proves the server answers; rejects with StoreError('unavailable') otherwise. */
  static async connect(opts: MongoStoreOptions): Promise<MongoStore> {
    const timeout = opts.serverSelectionTimeoutMS ?? 5000;
    const client = new MongoClient(opts.url, {
      serverSelectionTimeoutMS: timeout,
      connectTimeoutMS: timeout,
      socketTimeoutMS: 30_000,
      maxPoolSize: opts.maxPoolSize ?? 50,
      ignoreUndefined: true,
      retryWrites: false, // the wire-protocol test server has no sessions; our writes are idempotent instead
    });
    try {
      await client.connect();
      await client.db(opts.dbName).command({ ping: 1 });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw translate(err);
    }
    return new MongoStore(client, client.db(opts.dbName));
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return new MongoCollection(this, this.db, name) as unknown as Collection<T>;
  }

  /** The one insert batcher of a collection (shared by every handle on it). */
  inserts(name: string): InsertBatcher {
    let b = this.batchers.get(name);
    if (!b) this.batchers.set(name, (b = new InsertBatcher(() => this.db.collection(name))));
    return b;
  }

  /** The one update batcher of a collection (group commit of grouped updates). */
  updates(name: string): UpdateBatcher {
    let b = this.updaters.get(name);
    if (!b) this.updaters.set(name, (b = new UpdateBatcher(() => this.db.collection(name))));
    return b;
  }

  /** A GridFS bucket in this database (binary files in chunks: the media store's MongoDB driver). */
  gridfsBucket(bucketName: string, chunkSizeBytes: number): GridFSBucket {
    return new GridFSBucket(this.db, { bucketName, chunkSizeBytes });
  }

  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    for (const s of specs) {
      await this.run(() =>
        this.db.collection(s.collection).createIndex(s.keys, {
          name: s.name,
          ...(s.unique ? { unique: true } : {}),
          ...(s.sparse ? { sparse: true } : {}),
        }),
      );
    }
  }

  async dropIndexes(indexes: readonly { collection: string; name: string }[]): Promise<void> {
    for (const ix of indexes) {
      // A collection that does not exist yet has no indexes (listing them is an error there).
      const collections = await this.run(() => this.db.listCollections({ name: ix.collection }, { nameOnly: true }).toArray());
      if (collections.length === 0) continue;
      const names = await this.run(() => this.db.collection(ix.collection).listIndexes().map((i) => String(i.name)).toArray());
      if (names.includes(ix.name)) await this.run(() => this.db.collection(ix.collection).dropIndex(ix.name));
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreError('unavailable', `mongodb did not answer ping within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.run(() => this.db.command({ ping: 1 })), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async dropAll(): Promise<void> {
    await this.run(() => this.db.dropDatabase());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }

  /** Runs a driver call, translating its errors into StoreError. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'mongodb store is closed');
    try {
      return await fn();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Our documents carry string `_id`s (see newId), not ObjectIds. */
type StoredDoc = Document & { _id: string };

class MongoCollection implements Collection<Doc> {
  constructor(
    private readonly store: MongoStore,
    private readonly db: Db,
    private readonly name: string,
  ) {}

  private get c() {
    return this.db.collection<StoredDoc>(this.name);
  }

  async insertOne(doc: Doc): Promise<string> {
    const withId = { ...doc, _id: doc._id ?? newId() };
    await this.store.run(() => this.store.inserts(this.name).insert(withId));
    return withId._id;
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<Doc | null> {
    return (await this.find(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Doc[]> {
    return this.store.run(async () => {
      let cursor = this.c.find(filter, options.projection ? { projection: options.projection } : {});
      if (options.sort) cursor = cursor.sort(options.sort);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.limit) cursor = cursor.limit(options.limit);
      return (await cursor.toArray()) as unknown as Doc[];
    });
  }

  async countDocuments(filter: Filter = {}): Promise<number> {
    // The `count` command with a query counts through the indexes; the driver's countDocuments is an
    // aggregation, which the MongoDB test server runs over the whole collection (1M messages → 200 ms).
    return this.store.run(async () => Number((await this.db.command({ count: this.name, query: filter })).n ?? 0));
  }

  async updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    if (options.grouped && !options.upsert && typeof filter._id === 'string' && isGroupable(update)) {
      const id = filter._id;
      return this.store.run(() => this.store.updates(this.name).update(id, filter, update.$set as Document, update.$push as Document | undefined));
    }
    const r = await this.store.run(() => this.c.updateOne(filter, withInsertId(filter, update, options.upsert), { upsert: !!options.upsert }));
    return upsertResult(r.matchedCount, r.modifiedCount, r.upsertedId);
  }

  async updateMany(filter: Filter, update: Update): Promise<UpdateResult> {
    const r = await this.store.run(() => this.c.updateMany(filter, update));
    return { matched: r.matchedCount, modified: r.modifiedCount };
  }

  async findOneAndUpdate(filter: Filter, update: Update, options: FindOneAndUpdateOptions = {}): Promise<Doc | null> {
    return this.store.run(async () => {
      const doc = await this.c.findOneAndUpdate(filter, withInsertId(filter, update, options.upsert), {
        upsert: !!options.upsert,
        returnDocument: options.returnDocument ?? 'before',
        ...(options.sort ? { sort: options.sort } : {}),
        ...(options.projection ? { projection: options.projection } : {}),
      });
      return doc as Doc | null;
    });
  }

  async deleteOne(filter: Filter): Promise<number> {
    return (await this.store.run(() => this.c.deleteOne(filter))).deletedCount;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return (await this.store.run(() => this.c.deleteMany(filter))).deletedCount;
  }

  async aggregate<R = Doc>(pipeline: Record<string, unknown>[]): Promise<R[]> {
    return this.store.run(async () => (await this.c.aggregate(pipeline).toArray()) as R[]);
  }
}

/** A `$set`, with or without a `$push`: what a grouped update may carry (its outcome is read from what it set). */
function isGroupable(update: Update): boolean {
  const isDoc = (v: unknown) => typeof v === 'object' && v !== null;
  return isDoc(update.$set) && Object.keys(update).every((op) => op === '$set' || (op === '$push' && isDoc(update.$push)));
}

/** Upserts get a string `_id` like every other insert, unless the filter or update names one. */
function withInsertId(filter: Filter, update: Update, upsert: boolean | undefined): Update {
  if (!upsert || '_id' in filter) return update;
  const onInsert = (update.$setOnInsert ?? {}) as Record<string, unknown>;
  const set = (update.$set ?? {}) as Record<string, unknown>;
  if ('_id' in onInsert || '_id' in set) return update;
  return { ...update, $setOnInsert: { ...onInsert, _id: newId() } };
}

function upsertResult(matched: number, modified: number, upsertedId: unknown): UpdateResult {
  return upsertedId == null ? { matched, modified } : { matched, modified, upsertedId: String(upsertedId) };
}

const UNAVAILABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClosedError',
]);

function translate(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof MongoServerError && e.code === 11000) return new StoreError('duplicate_key', e.message, { cause: e });
  if (UNAVAILABLE.has(e.name)) return new StoreError('unavailable', `mongodb unavailable: ${e.message}`, { cause: e });
  if (e instanceof MongoServerError) return new StoreError('bad_query', e.message, { cause: e });
  return new StoreError('unavailable', e.message, { cause: e });
}
