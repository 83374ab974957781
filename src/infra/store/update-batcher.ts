import { MongoBulkWriteError, MongoServerError, type Collection as DriverCollection, type Document } from 'mongodb';

/** What one grouped update learns of its own outcome. */
export interface GroupedOutcome {
  matched: number;
  modified: number;
}

interface Waiting {
  id: string;
  filter: Document;
  set: Document;
  resolve: (r: GroupedOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for conditional `$set` updates by `_id` (the actor saves of
 * every event): those issued in one event-loop turn leave as one unordered
 * `bulkWrite` — one round trip and one socket write instead of one each.
 *
 * While `maxInFlight` writes are out, further updates wait and leave
 * together once one returns (group commit sized by the server's pace).
 *
 * A bulk write reports how many of its updates matched, not which. When all
 * or none did (every event but a conflict), each caller's outcome follows. When
 * only some did, the documents are read back once and an update counts as
 * matched when its document holds what it set — the question its caller asks
 * ("is my version what is stored?"). `modified` is reported equal to
 * `matched`. Two updates of one document in one turn go in successive writes,
 * in the order they were issued.
 */
export class UpdateBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly collection: () => DriverCollection<Document>,
    /** Most updates per bulkWrite. */
    private readonly maxBatch = 500,
    /** Writes in flight at once; past it, updates wait and leave together with the next (see InsertBatcher). */
    private readonly maxInFlight = 2,
  ) {}

  /** `set` is the update's `$set` (the only operator a grouped update may use). */
  update(id: string, filter: Document, set: Document): Promise<GroupedOutcome> {
    return new Promise<GroupedOutcome>((resolve, reject) => {
      this.waiting.push({ id, filter, set, resolve, reject });
      if (this.waiting.length >= this.maxBatch && this.inFlight < this.maxInFlight) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After this turn's I/O callbacks: every update they issued goes together.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight >= this.maxInFlight) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight++;
    void this.writeRounds(batch).finally(() => {
      this.inFlight--;
      if (this.waiting.length > 0) this.schedule();
    });
  }

  /** Round k holds the k-th update of each document, so updates of one document stay in issue order. */
  private async writeRounds(batch: Waiting[]): Promise<void> {
    let rest = batch;
    while (rest.length > 0) {
      const seen = new Set<string>();
      const round: Waiting[] = [];
      const later: Waiting[] = [];
      for (const w of rest) {
        if (seen.has(w.id)) later.push(w);
        else {
          seen.add(w.id);
          round.push(w);
        }
      }
      await this.write(round).catch((err: unknown) => round.forEach((w) => w.reject(err)));
      rest = later;
    }
  }

  private async write(round: Waiting[]): Promise<void> {
    const c = this.collection();
    if (round.length === 1) {
      const [only] = round as [Waiting];
      await c.updateOne(only.filter, { $set: only.set }).then((r) => only.resolve({ matched: r.matchedCount, modified: r.modifiedCount }), only.reject);
      return;
    }
    let matched: number;
    let open = round;
    try {
      const r = await c.bulkWrite(round.map((w) => ({ updateOne: { filter: w.filter, update: { $set: w.set } } })), { ordered: false });
      matched = r.matchedCount;
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError) || err.writeErrors === undefined) return round.forEach((w) => w.reject(err));
      const failed = new Map<number, unknown>();
      // Each failed update's share, shaped like the error updateOne would have thrown.
      for (const we of [err.writeErrors].flat()) failed.set(we.index, new MongoServerError({ message: we.errmsg ?? err.message, errmsg: we.errmsg, code: we.code }));
      round.forEach((w, i) => failed.has(i) && w.reject(failed.get(i)));
      open = round.filter((_, i) => !failed.has(i));
      matched = err.result?.matchedCount ?? -1;
    }
    if (matched === open.length || matched === 0) {
      const n = matched === 0 ? 0 : 1;
      for (const w of open) w.resolve({ matched: n, modified: n });
      return;
    }
    try {
      const held = await this.holding(c, open);
      for (const w of open) {
        const n = held.has(w) ? 1 : 0;
        w.resolve({ matched: n, modified: n });
      }
    } catch (err) {
      for (const w of open) w.reject(err);
    }
  }

  /** The updates whose document now holds every value they set (one read of those documents). */
  private async holding(c: DriverCollection<Document>, open: Waiting[]): Promise<Set<Waiting>> {
    const fields = new Set<string>();
    for (const w of open) for (const path of Object.keys(w.set)) fields.add(path.split('.')[0]!);
    const docs = await c.find({ _id: { $in: open.map((w) => w.id) } } as Document, { projection: Object.fromEntries([...fields].map((f) => [f, 1])) }).toArray();
    const byId = new Map(docs.map((d) => [String(d._id), d]));
    const held = new Set<Waiting>();
    for (const w of open) {
      const doc = byId.get(w.id);
      if (doc && Object.entries(w.set).every(([path, value]) => sameValue(valueAt(doc, path), value))) held.add(w);
    }
    return held;
  }
}

function valueAt(doc: Document, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[part];
  return v;
}

/** Equal as stored: the driver keeps key order and drops undefined fields, as JSON does; dates compare by instant. */
function sameValue(stored: unknown, set: unknown): boolean {
  return JSON.stringify(stored) === JSON.stringify(set);
}
