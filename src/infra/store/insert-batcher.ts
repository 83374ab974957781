import type { Collection as DriverCollection, Document } from 'mongodb';
import { failedWrites, GroupCommit } from './group-commit.ts';

interface Waiting {
  doc: Document;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Inserts into one collection issued in the same event-loop turn (or while
 * earlier writes are in flight) leave as one unordered `insertMany`: under
 * load, one round trip (and one socket write) for many webhooks' inbox items
 * or many actors' messages instead of one each. Every caller still learns its own outcome — a duplicate `_id` fails
 * only the insert that carried it, as `insertOne` would.
 */
export class InsertBatcher {
  private readonly batches: GroupCommit<Waiting>;

  constructor(
    private readonly collection: () => DriverCollection<Document>,
    /** Most documents per insertMany. */
    maxBatch = 500,
    /** Writes in flight at once; past it, inserts wait and leave together with the next (`group-commit.ts`). */
    maxInFlight = 2,
  ) {
    this.batches = new GroupCommit((batch) => this.write(batch), maxBatch, maxInFlight);
  }

  insert(doc: Document): Promise<void> {
    return new Promise<void>((resolve, reject) => this.batches.push({ doc, resolve, reject }));
  }

  private write(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      return this.collection().insertOne(only!.doc).then(() => only!.resolve(), only!.reject);
    }
    return this.collection()
      .insertMany(batch.map((w) => w.doc), { ordered: false })
      .then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => {
          const failed = failedWrites(err);
          if (!failed) return batch.forEach((w) => w.reject(err));
          batch.forEach((w, i) => (failed.has(i) ? w.reject(failed.get(i)) : w.resolve()));
        },
      )
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)));
  }
}
