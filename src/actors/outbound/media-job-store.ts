/** Owns `media_jobs`: one durable download job per customer media message, keyed by the message id. */
import { isDuplicateKey, type Collection, type Doc, type DocumentStore, type IndexSpec } from '../../infra/store/store.ts';

const MEDIA_JOBS = 'media_jobs';

/** The sweep's scan: due `pending` jobs, oldest due first. */
export const MEDIA_JOB_INDEXES: readonly IndexSpec[] = [{ collection: MEDIA_JOBS, name: 'state_next', keys: { state: 1, next_at: 1 } }];

/** `pending` (waiting, in backoff, or being downloaded) → `stored` | `failed`; an agent's retry takes `failed` back to `pending`. */
export type MediaJobState = 'pending' | 'stored' | 'failed';

export interface MediaJobDoc extends Doc {
  _id: string;
  chat_id: string;
  /** The chat actor's key (`chat-key.ts`); its shard is `shard`. */
  chat_key: string;
  /** The chat actor's shard: whichever pod owns it downloads. */
  shard: number;
  media_id: string;
  channel: string;
  mime_type: string | null;
  state: MediaJobState;
  /** Downloads started so far (each claim counts one). */
  attempts: number;
  /** Not claimed before this (backoff). */
  next_at: Date;
  /** No retry starts after this: then the job is `failed`. */
  window_ends_at: Date;
  claimed_by: string | null;
  claim_until: Date | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Every state change is one conditional single-document update; a claim
 * (`claimed_by` set, `attempts` + 1) is taken only from a job that is due and
 * unclaimed, or whose claim lapsed or belongs to a pod no longer alive, and
 * the outcome is written only by the claimant: two pods never both record one.
 */
export class MediaJobStore {
  private readonly jobs: Collection<MediaJobDoc>;

  constructor(store: DocumentStore) {
    this.jobs = store.collection<MediaJobDoc>(MEDIA_JOBS);
  }

  /** Records a job; false when one for this message exists already (an effect run again). */
  async record(doc: MediaJobDoc): Promise<boolean> {
    try {
      await this.jobs.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  byId(id: string): Promise<MediaJobDoc | null> {
    return this.jobs.findOne({ _id: id });
  }

  /** Up to `limit` due `pending` jobs in `shards` (all when undefined), soonest first (`_id` and `media_id` only). */
  due(now: Date, limit: number, shards?: readonly number[]): Promise<MediaJobDoc[]> {
    return this.jobs.find(
      { state: 'pending', next_at: { $lte: now }, ...(shards ? { shard: { $in: [...shards] } } : {}) },
      { sort: { next_at: 1 }, limit, projection: { _id: 1, media_id: 1 } },
    );
  }

  /** Claims job `id` for `pod` until `until`; null when it is not due, settled, or held by a live claimant. */
  claim(id: string, pod: string, now: Date, until: Date, livePods: readonly string[]): Promise<MediaJobDoc | null> {
    return this.jobs.findOneAndUpdate(
      { _id: id, state: 'pending', next_at: { $lte: now }, $or: [{ claimed_by: null }, { claim_until: { $lt: now } }, { claimed_by: { $nin: [...livePods] } }] },
      { $set: { claimed_by: pod, claim_until: until, updated_at: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
  }

  /** The claimant's outcome: `stored`, `failed` (with `error`), or back to `pending` until `nextAt`. False when the claim was lost meanwhile. */
  async settle(id: string, pod: string, now: Date, outcome: { state: 'stored' } | { state: 'failed'; error: string } | { state: 'pending'; error: string; nextAt: Date }): Promise<boolean> {
    const fields = {
      state: outcome.state,
      claimed_by: null,
      claim_until: null,
      error: outcome.state === 'stored' ? null : outcome.error,
      updated_at: now,
      ...(outcome.state === 'pending' ? { next_at: outcome.nextAt } : {}),
    };
    const r = await this.jobs.updateOne({ _id: id, state: 'pending', claimed_by: pod }, { $set: fields });
    return r.matched === 1;
  }

  /** Claims `pod` held when it stopped (a restart with the same POD_ID) are let go: the jobs are due again. */
  async releaseClaimsOf(pod: string, now: Date): Promise<number> {
    const r = await this.jobs.updateMany({ state: 'pending', claimed_by: pod }, { $set: { claimed_by: null, claim_until: null, next_at: now, updated_at: now } });
    return r.modified;
  }

  /** An agent's retry: a `failed` job is `pending` again, due now, with a new window; null when there is no failed job `id`. */
  requeue(id: string, now: Date, windowEndsAt: Date): Promise<MediaJobDoc | null> {
    return this.jobs.findOneAndUpdate(
      { _id: id, state: 'failed' },
      { $set: { state: 'pending', next_at: now, window_ends_at: windowEndsAt, error: null, claimed_by: null, claim_until: null, updated_at: now } },
      { returnDocument: 'after' },
    );
  }

  /** Deletes `stored` jobs settled before `cutoff` (their file and the message stay); failed ones stay for an agent's retry. */
  deleteStoredBefore(cutoff: Date): Promise<number> {
    return this.jobs.deleteMany({ state: 'stored', updated_at: { $lt: cutoff } });
  }

  countInState(state: MediaJobState): Promise<number> {
    return this.jobs.countDocuments({ state });
  }
}
