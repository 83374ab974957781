import { channelById } from '../../domain/channels.ts';
import type { PinbotEndpoints } from '../../domain/pinbot-endpoints.ts';
import { mediaDownloadPath } from '../../domain/pinbot-endpoints.ts';
import type { Logger } from '../../infra/logger.ts';
import { mediaPath, signedMediaPath } from '../../infra/media/media-link.ts';
import type { MediaStorage } from '../../infra/media/media-storage.ts';
import { MediaRejectedError, MediaTooLargeError, type PinbotClient } from '../../infra/pinbot/pinbot-client.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { ChatStore } from '../chat/chat-store.ts';
import type { RoomPublisher } from '../runtime/room-publisher.ts';
import { MediaJobStore, type MediaJobDoc } from './media-job-store.ts';
import type { MediaJob } from './outbound.ts';
import { LaneQueue } from './outbox-queue.ts';

/** WhatsApp's own largest media (video, audio: 16 MB); larger answers are refused while they arrive. */
export const MEDIA_MAX_BYTES = 16 * 1024 * 1024;
/** Longest wait between two attempts, however many failed. */
const MAX_BACKOFF_MS = 3_600_000;

export interface MediaDownloadsOptions {
  store: DocumentStore;
  storage: MediaStorage;
  client: PinbotClient;
  endpoints: PinbotEndpoints;
  rooms: RoomPublisher;
  log: Logger;
  pod: string;
  /** Signs the `media_link` pushed with a stored file (AGENT_JWT_SECRET). */
  linkSecret: string;
  /** Retries stop this long after a job was recorded (or an agent asked again): MEDIA_RETRY_WINDOW_MS. */
  retryWindowMs: number;
  /** First wait between attempts, doubling (MEDIA_RETRY_BACKOFF_MS). */
  backoffMs: number;
  /** Bound on one download attempt (MEDIA_DOWNLOAD_TIMEOUT_MS). */
  downloadTimeoutMs?: number;
  /** The shard of a chat actor key, and the shards this pod owns now (cluster mode; all jobs are this pod's without). */
  shardOf?: (chatKey: string) => number;
  ownedShards?: () => readonly number[];
  /** Pods alive now: a claim held by any other pod is free to take. */
  livePods?: () => Promise<string[]>;
  maxBytes?: number;
  concurrency?: number;
  maxQueue?: number;
  /** A claim lapses after this (longer than one download and its store can take). */
  leaseMs?: number;
  now?: () => number;
}

/** What the room is told, and what an agent's retry answers: where one message's media download stands. */
export interface MediaProgress {
  chat_id: string;
  message_id: string;
  media_id: string;
  media_status: 'pending' | 'stored' | 'failed';
  media_attempts: number;
  mediaUrl?: string;
  media_link?: string;
  media_link_expires_at?: string;
  media_error?: string;
  next_attempt_at?: string;
}

/**
 * Customer media as durable jobs (`media-job-store.ts`): recorded by the chat
 * effect that stores the message, claimed and downloaded by the pod that owns
 * the chat (at once, or by the sweep after a crash, a failover or a backoff),
 * retried with doubling waits until MEDIA_RETRY_WINDOW_MS has passed, then
 * `failed` with the reason. A refusal that repeating cannot change (too large,
 * Pinbot's 4xx) fails at once. Each change lands on the message
 * (`media_status`, `media_attempts`, `media_error`, `mediaUrl`) and is pushed
 * to the chat's room as `message_media`. Channels without a key (dry-run)
 * download nothing and record no job.
 */
export class MediaDownloads {
  private readonly queue: LaneQueue;
  private readonly jobs: MediaJobStore;
  private readonly messages: ChatStore;
  private readonly now: () => number;
  private readonly maxBytes: number;
  private readonly leaseMs: number;
  /** Settled by this process, by state (metrics). */
  readonly outcomes: Record<string, number> = { stored: 0, failed: 0, retried: 0 };
  private stateCounts: { at: number; counts: Promise<Record<string, number>> } | undefined;

  constructor(private readonly opts: MediaDownloadsOptions) {
    this.jobs = new MediaJobStore(opts.store);
    this.messages = new ChatStore(opts.store);
    this.now = opts.now ?? Date.now;
    this.maxBytes = opts.maxBytes ?? MEDIA_MAX_BYTES;
    // Longer than one attempt can take (the download, then its store).
    this.leaseMs = opts.leaseMs ?? 2 * (opts.downloadTimeoutMs ?? 60_000) + 30_000;
    this.queue = new LaneQueue((id) => this.process(id), {
      concurrency: opts.concurrency ?? 2,
      maxQueued: opts.maxQueue ?? 1000,
      onError: (err, id) => opts.log.error({ err, messageId: id }, 'media download failed unexpectedly (the job is left for the sweep)'),
    });
  }

  /** How often the sweep should run: often enough for the first backoff, at most every 2 s. */
  get sweepEveryMs(): number {
    return Math.min(2000, Math.max(100, this.opts.backoffMs));
  }

  /**
   * Records the download of a message's media (idempotent: an effect run
   * again finds its job) and starts it here; a full queue leaves it to the sweep.
   */
  async record(job: MediaJob): Promise<void> {
    const route = this.route(job.channel);
    if (!route?.apiKey) {
      this.opts.log.debug({ mediaId: job.mediaId, channel: job.channel }, 'media download skipped (dry-run: no API key for this channel)');
      return;
    }
    const now = new Date(this.now());
    const doc: MediaJobDoc = {
      _id: job.messageId, chat_id: job.chatId, chat_key: job.chatKey, shard: this.opts.shardOf?.(job.chatKey) ?? 0,
      media_id: job.mediaId, channel: job.channel, mime_type: job.mimeType ?? null,
      state: 'pending', attempts: 0, next_at: now, window_ends_at: new Date(now.getTime() + this.opts.retryWindowMs),
      claimed_by: null, claim_until: null, error: null, created_at: now, updated_at: now,
    };
    if (await this.jobs.record(doc)) await this.announce(doc, { media_status: 'pending', media_attempts: 0 }, [], { first: true });
    this.queue.push(job.mediaId, job.messageId);
  }

  /** Queues this pod's due jobs (start-up, and every `sweepEveryMs`); returns how many. */
  async sweep(): Promise<number> {
    const free = this.queue.free;
    if (free === 0) return 0;
    const shards = this.opts.ownedShards?.();
    if (shards && shards.length === 0) return 0;
    let n = 0;
    for (const j of await this.jobs.due(new Date(this.now()), free, shards)) {
      if (this.queue.has(j._id)) continue;
      if (this.queue.push(j.media_id, j._id)) n++;
    }
    return n;
  }

  /** Start-up: claims this pod (same POD_ID) held when it stopped are let go, then due jobs are queued. */
  async recover(): Promise<number> {
    const released = await this.jobs.releaseClaimsOf(this.opts.pod, new Date(this.now()));
    if (released) this.opts.log.warn({ released }, 'media downloads left in flight by a previous run will be tried again');
    return this.sweep();
  }

  /**
   * An agent's retry of a failed download: pending again, due now, with a
   * whole new window. A job that is not failed is left as it is. Null when
   * the message has no media job.
   */
  async retry(messageId: string): Promise<MediaProgress | null> {
    const now = this.now();
    const requeued = await this.jobs.requeue(messageId, new Date(now), new Date(now + this.opts.retryWindowMs));
    if (requeued) {
      this.opts.log.info({ messageId, mediaId: requeued.media_id }, 'media download: an agent asked for a retry');
      const progress = await this.announce(requeued, { media_status: 'pending', media_attempts: requeued.attempts }, ['media_error']);
      const owned = this.opts.ownedShards?.();
      if (!owned || owned.includes(requeued.shard)) this.queue.push(requeued.media_id, requeued._id);
      return progress;
    }
    const job = await this.jobs.byId(messageId);
    return job ? this.progressOf(job) : null;
  }

  /** Forgets jobs stored longer ago than `ageMs` (the message keeps its state and the file stays); returns how many. */
  prune(ageMs: number): Promise<number> {
    return this.jobs.deleteStoredBefore(new Date(this.now() - ageMs));
  }

  /** `pending` and `failed` jobs, all pods (metrics: `media_jobs`): two counts on the `state_next` index, reused for `maxAgeMs`; a failed count keeps the last. */
  countByState(maxAgeMs = 5_000): Promise<Record<string, number>> {
    const now = this.now();
    if (this.stateCounts && now - this.stateCounts.at < maxAgeMs) return this.stateCounts.counts;
    const previous = this.stateCounts?.counts ?? Promise.resolve({});
    const counts = Promise.all([this.jobs.countInState('pending'), this.jobs.countInState('failed')]).then(
      ([pending, failed]) => ({ pending, failed }) as Record<string, number>,
      () => previous,
    );
    this.stateCounts = { at: now, counts };
    return counts;
  }

  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Stops starting downloads and waits up to `timeoutMs` for those running; the rest stay `pending` for the sweep. */
  async close(timeoutMs = 2000): Promise<void> {
    const left = await this.queue.close(timeoutMs);
    if (left) this.opts.log.warn({ left }, 'media downloads closed with downloads in flight: their claims lapse and another run takes them');
  }

  private async process(id: string): Promise<void> {
    const now = this.now();
    const live = this.opts.livePods ? await this.opts.livePods() : [this.opts.pod];
    const job = await this.jobs.claim(id, this.opts.pod, new Date(now), new Date(now + this.leaseMs), live);
    if (!job) return; // settled, in backoff, or downloading on another pod
    const route = this.route(job.channel);
    if (!route?.apiKey) return this.finish(job, { state: 'failed', error: `no Pinbot API key for channel ${job.channel} any more` });
    try {
      const { bytes, contentType } = await this.opts.client.download(
        { originUrl: route.originUrl, path: mediaDownloadPath(job.media_id), apiKey: route.apiKey, wanumber: route.wanumber, businessNumber: route.businessNumber, channel: route.sendType },
        this.maxBytes,
        { outboxKey: `media:${job.media_id}`, type: 'media' },
        // One request per attempt: the job's own backoff spaces them out.
        { maxAttempts: 1, ...(this.opts.downloadTimeoutMs ? { timeoutMs: this.opts.downloadTimeoutMs } : {}) },
      );
      await this.opts.storage.put(job.media_id, bytes, job.mime_type ?? contentType);
      this.opts.log.info({ mediaId: job.media_id, messageId: job._id, bytes: bytes.length, attempts: job.attempts, store: this.opts.storage.kind }, 'media stored');
      await this.finish(job, { state: 'stored' });
    } catch (err) {
      const reason = ((err as Error).message ?? String(err)).slice(0, 300);
      if (err instanceof MediaTooLargeError) return this.finish(job, { state: 'failed', error: `refused: ${reason} (WhatsApp's limit is 16 MB)` });
      if (err instanceof MediaRejectedError) return this.finish(job, { state: 'failed', error: reason });
      const wait = Math.min(MAX_BACKOFF_MS, this.opts.backoffMs * 2 ** (job.attempts - 1));
      const nextAt = this.now() + wait;
      if (nextAt > job.window_ends_at.getTime()) {
        return this.finish(job, { state: 'failed', error: `gave up after ${job.attempts} attempt(s) in ${Math.round(this.opts.retryWindowMs / 60_000)} min: ${reason}` });
      }
      this.opts.log.warn({ mediaId: job.media_id, messageId: job._id, attempts: job.attempts, retryInMs: wait, err: reason }, 'media download failed; will retry');
      await this.finish(job, { state: 'pending', error: reason, nextAt: new Date(nextAt) });
    }
  }

  private async finish(job: MediaJobDoc, outcome: { state: 'stored' } | { state: 'failed'; error: string } | { state: 'pending'; error: string; nextAt: Date }): Promise<void> {
    if (!(await this.jobs.settle(job._id, this.opts.pod, new Date(this.now()), outcome))) {
      this.opts.log.warn({ mediaId: job.media_id, messageId: job._id }, 'media download: the claim was taken over meanwhile; its outcome is not recorded');
      return;
    }
    this.outcomes[outcome.state === 'pending' ? 'retried' : outcome.state]! += 1;
    if (outcome.state === 'stored') {
      await this.announce(job, { media_status: 'stored', media_attempts: job.attempts, mediaUrl: mediaPath(job.media_id) }, ['media_error', 'media_next_attempt_at']);
    } else if (outcome.state === 'failed') {
      this.opts.log.warn({ mediaId: job.media_id, messageId: job._id, attempts: job.attempts, err: outcome.error }, 'media download failed for good');
      await this.announce(job, { media_status: 'failed', media_attempts: job.attempts, media_error: outcome.error }, ['media_next_attempt_at']);
    } else {
      await this.announce(job, { media_status: 'pending', media_attempts: job.attempts, media_error: outcome.error, media_next_attempt_at: outcome.nextAt });
    }
  }

  /** The new state on the message, then to the room. */
  private async announce(job: MediaJobDoc, set: Record<string, unknown>, unset: readonly string[] = [], opts: { first?: boolean } = {}): Promise<MediaProgress> {
    await this.messages.setMediaState(job._id, set, unset, opts);
    const progress = this.progressOf({ ...job, ...toJobFields(set) });
    this.opts.rooms.publish(job.chat_id, 'message_media', progress);
    return progress;
  }

  private progressOf(job: Pick<MediaJobDoc, '_id' | 'chat_id' | 'media_id' | 'state' | 'attempts' | 'error' | 'next_at'>): MediaProgress {
    const p: MediaProgress = { chat_id: job.chat_id, message_id: job._id, media_id: job.media_id, media_status: job.state, media_attempts: job.attempts };
    if (job.state === 'stored') {
      const link = signedMediaPath(this.opts.linkSecret, job.media_id, this.now());
      Object.assign(p, { mediaUrl: mediaPath(job.media_id), media_link: link.url, media_link_expires_at: link.expiresAt.toISOString() });
    }
    if (job.error && job.state !== 'stored') p.media_error = job.error;
    if (job.state === 'pending' && job.error) p.next_attempt_at = job.next_at.toISOString();
    return p;
  }

  private route(channel: string) {
    const sendType = channelById(channel)?.sendType;
    return sendType ? this.opts.endpoints.resolveMedia(sendType) : undefined;
  }
}

/** The message fields written by `announce`, as the job's own (for the push). */
function toJobFields(set: Record<string, unknown>): Partial<MediaJobDoc> {
  return {
    state: set.media_status as MediaJobDoc['state'],
    attempts: set.media_attempts as number,
    error: typeof set.media_error === 'string' ? set.media_error : null,
    ...(set.media_next_attempt_at instanceof Date ? { next_at: set.media_next_attempt_at } : {}),
  };
}
