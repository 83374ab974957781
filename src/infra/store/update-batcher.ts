import type { MongoBulkWriteError, Collection as DriverCollection, Document } from 'mongodb';
import { failedWrites, GroupCommit } from './group-commit.ts';

/** What one grouped update learns of its own outcome. */
export interface GroupedOutcome {
  matched: number;
  modified: number;
}

interface Waiting {
  id: string;
  filter: Document;
  set: Document;
  /** Appends beside the `$set` (its outcome is still read from what the `$set` wrote). */
  push: Document | undefined;
  resolve: (r: GroupedOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for conditional `$set` updates by `_id` (the actor saves of
 * every event): those issued in one event-loop turn leave as one unordered
 * `bulkWrite` — one round trip and one socket write instead of one each.
 *
 * While `maxInFlight` writes are out, further updates wait and leave
 * together once one returns (`group-commit.ts`).
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
  private readonly batches: GroupCommit<Waiting>;

  constructor(
    private readonly collection: () => DriverCollection<Document>,
    /** Most updates per bulkWrite. */
    maxBatch = 500,
    /** Writes in flight at once; past it, updates wait and leave together with the next (`group-commit.ts`). */
    maxInFlight = 2,
  ) {
    this.batches = new GroupCommit((batch) => this.writeRounds(batch), maxBatch, maxInFlight);
  }

  /** `set` is the update's `$set`, `push` its `$push` if any (the only operators a grouped update may use). */
  update(id: string, filter: Document, set: Document, push?: Document): Promise<GroupedOutcome> {
    return new Promise<GroupedOutcome>((resolve, reject) => {
      this.batches.push({ id, filter, set, push, resolve, reject });
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
      await c.updateOne(only.filter, operators(only)).then((r) => only.resolve({ matched: r.matchedCount, modified: r.modifiedCount }), only.reject);
      return;
    }
    let matched: number;
    let open = round;
    try {
      const r = await c.bulkWrite(round.map((w) => ({ updateOne: { filter: w.filter, update: operators(w) } })), { ordered: false });
      matched = r.matchedCount;
    } catch (err) {
      const failed = failedWrites(err);
      if (!failed) return round.forEach((w) => w.reject(err));
      round.forEach((w, i) => failed.has(i) && w.reject(failed.get(i)));
      open = round.filter((_, i) => !failed.has(i));
      matched = (err as MongoBulkWriteError).result?.matchedCount ?? -1;
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

function operators(w: Waiting): Document {
  return w.push ? { $set: w.set, $push: w.push } : { $set: w.set };
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
