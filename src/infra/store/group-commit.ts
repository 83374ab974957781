import { MongoBulkWriteError, MongoServerError } from 'mongodb';

/**
 * Group commit for one collection's writes: items issued in one event-loop
 * turn leave together through `write`, at most `maxBatch` at a time. While
 * `maxInFlight` writes are out, further items wait and leave together once
 * one returns, so under load a batch grows to what the server takes per
 * round trip; unloaded, an item leaves at once. The insert and update
 * batchers share this pacing and differ only in how they write a batch.
 */
export class GroupCommit<W> {
  private waiting: W[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly write: (batch: W[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
  ) {}

  push(item: W): void {
    this.waiting.push(item);
    if (this.waiting.length >= this.maxBatch && this.inFlight < this.maxInFlight) this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After this turn's I/O callbacks: everything they issued goes together.
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
}

/**
 * The failed writes of an unordered bulk write, by their index in the batch, each shaped like the error the
 * single write would have thrown; undefined when `err` is not such a partial failure (the whole batch failed).
 */
export function failedWrites(err: unknown): Map<number, MongoServerError> | undefined {
  if (!(err instanceof MongoBulkWriteError) || err.writeErrors === undefined) return undefined;
  const failed = new Map<number, MongoServerError>();
  for (const we of [err.writeErrors].flat()) failed.set(we.index, new MongoServerError({ message: we.errmsg ?? err.message, errmsg: we.errmsg, code: we.code }));
  return failed;
}
