import type { ErrorCode } from '../errors.ts';
/**
 * The document store: the subset of MongoDB the product uses, behind one
 * interface with two drivers — `store.mongo.ts` (the official driver) and
 * `store.memory.ts` (in-process, for embedded mode). Both pass
 * `test/contract/store.contract.ts`.
 *
 * Filters, updates and pipelines are MongoDB's own syntax; queries stay within
 * what real MongoDB 7, the wire-protocol test server and mingo all support.
 */

export type Doc = { _id?: string } & Record<string, unknown>;
export type Filter = Record<string, unknown>;
export type Update = Record<string, unknown>;
export type Sort = Record<string, 1 | -1>;
export type Projection = Record<string, 0 | 1>;

export interface FindOptions {
  sort?: Sort;
  skip?: number;
  limit?: number;
  projection?: Projection;
}

export interface UpdateOptions {
  upsert?: boolean;
  /**
   * May be written together with the other grouped updates of this event-loop
   * turn (MongoDB: one bulkWrite; see update-batcher.ts). Only for a `$set`
   * (and a `$push` beside it) by string `_id`, without upsert (others are
   * written alone). `matched` then means the document holds what this update's
   * `$set` set, and `modified` equals it.
   */
  grouped?: boolean;
  /**
   * The caller hands the update's values over and never mutates them afterwards (an actor's saved record:
   * rebuilt, never changed, on every event). The memory store then keeps them as they are instead of a deep
   * copy; MongoDB serialises them anyway.
   */
  handOver?: boolean;
}

export interface FindOneAndUpdateOptions extends UpdateOptions {
  returnDocument?: 'before' | 'after';
  sort?: Sort;
  projection?: Projection;
}

export interface UpdateResult {
  matched: number;
  modified: number;
  /** The `_id` of the document an upsert inserted, if it inserted one. */
  upsertedId?: string;
}

export interface IndexSpec {
  collection: string;
  name: string;
  keys: Record<string, 1 | -1>;
  unique?: boolean;
  sparse?: boolean;
}

export interface Collection<T extends Doc = Doc> {
  /** Inserts and returns the `_id` (generated when the document has none). */
  insertOne(doc: T): Promise<string>;
  findOne(filter: Filter, options?: FindOptions): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  countDocuments(filter?: Filter): Promise<number>;
  updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  updateMany(filter: Filter, update: Update): Promise<UpdateResult>;
  findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null>;
  deleteOne(filter: Filter): Promise<number>;
  deleteMany(filter: Filter): Promise<number>;
  aggregate<R = Doc>(pipeline: Record<string, unknown>[]): Promise<R[]>;
}

export interface DocumentStore {
  readonly kind: 'memory' | 'mongodb';
  collection<T extends Doc = Doc>(name: string): Collection<T>;
  ensureIndexes(specs: readonly IndexSpec[]): Promise<void>;
  /** Drops indexes an earlier version created, by name; one that is not there is no error. */
  dropIndexes(indexes: readonly { collection: string; name: string }[]): Promise<void>;
  /** Resolves when the store answers within `timeoutMs`; rejects with StoreError otherwise. */
  ping(timeoutMs: number): Promise<void>;
  /** Removes every collection (tests and the admin cache flush only). */
  dropAll(): Promise<void>;
  close(): Promise<void>;
}

export type StoreErrorKind = 'duplicate_key' | 'bad_query' | 'unavailable' | 'closed';

/**
 * The one error type both drivers throw, so callers never see driver internals.
 * Internal; a client it reaches gets STORE_UNAVAILABLE, SHUTTING_DOWN (closed) or INTERNAL (its publicCode).
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** Down (STORE_UNAVAILABLE, retry) or closed by shutdown (SHUTTING_DOWN); a duplicate key or bad query escaping is our bug (INTERNAL). */
  get publicCode(): ErrorCode {
    return this.kind === 'unavailable' ? 'STORE_UNAVAILABLE' : this.kind === 'closed' ? 'SHUTTING_DOWN' : 'INTERNAL';
  }
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isDuplicateKey = (err: unknown): boolean => err instanceof StoreError && err.kind === 'duplicate_key';

/** A new `_id`: 24 hex characters, time-ordered like a MongoDB ObjectId. */
export function newId(): string {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  counter = (counter + 1) % 0xffffff;
  return time + processPart + counter.toString(16).padStart(6, '0');
}
let counter = Math.floor(Math.random() * 0xffffff);
const processPart = Array.from({ length: 10 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
