import { MongoBulkWriteError, MongoServerError, type Collection as DriverCollection, type Document } from 'mongodb';

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
  private waiting: Waiting[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly collection: () => DriverCollection<Document>,
    /** Most documents per insertMany. */
    private readonly maxBatch = 500,
    /**
     * Writes in flight at once. Past it, inserts wait for one to return and
     * leave together with it (group commit): under load the batches grow to
     * what the server takes per round trip; unloaded, an insert leaves at once.
     */
    private readonly maxInFlight = 2,
  ) {}

  insert(doc: Document): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ doc, resolve, reject });
      if (this.waiting.length >= this.maxBatch && this.inFlight < this.maxInFlight) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After this turn's I/O callbacks: everything they inserted goes together.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight >= this.maxInFlight) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight++;
    void this.write(batch).finally(() => {
      this.inFlight--;
      if (this.waiting.length > 0) this.schedule();
    });
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
          if (!(err instanceof MongoBulkWriteError) || err.writeErrors === undefined) return batch.forEach((w) => w.reject(err));
          const failed = new Map<number, unknown>();
          // Each failed insert's share, shaped like the error insertOne would have thrown.
          for (const we of [err.writeErrors].flat()) failed.set(we.index, new MongoServerError({ message: we.errmsg ?? err.message, errmsg: we.errmsg, code: we.code }));
          batch.forEach((w, i) => (failed.has(i) ? w.reject(failed.get(i)) : w.resolve()));
        },
      )
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)));
  }
}
