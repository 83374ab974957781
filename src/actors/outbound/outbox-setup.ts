import { PinbotEndpoints } from '../../domain/pinbot-endpoints.ts';
import type { Config } from '../../infra/config.ts';
import { StartupError } from '../../infra/connect.ts';
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import type { MediaStorage } from '../../infra/media/media-storage.ts';
import { PinbotClient, type PinbotClientOptions } from '../../infra/pinbot/pinbot-client.ts';
import { RateLimiter } from '../../infra/pinbot/rate-limiter.ts';
import { ChatResponseCache } from '../../infra/pinbot/response-cache.ts';
import { pinbotSettings } from '../../infra/pinbot/settings.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { MediaDownloads, type MediaDownloadsOptions } from './media-downloads.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';
import type { RoomPublisher } from '../runtime/room-publisher.ts';

/** WhatsApp's throughput limit per business number. */
export const MESSAGES_PER_SECOND = 80;

export interface OutboundStack {
  outbox: Outbox;
  media: MediaDownloads;
  cache: ChatResponseCache;
  client: PinbotClient;
  endpoints: PinbotEndpoints;
  /** Drains the outbox (bounded) and media downloads, then closes the connection pools. */
  close(timeoutMs: number): Promise<void>;
}

export interface OutboundDeps {
  config: Config;
  store: DocumentStore;
  /** Where downloaded media is kept (`src/infra/media`). */
  mediaStorage: MediaStorage;
  kv: KeyValueStore;
  rooms: RoomPublisher;
  log: Logger;
  /** Test and tuning overrides. */
  client?: Partial<PinbotClientOptions>;
  outbox?: Partial<OutboxOptions>;
  /** Cluster placement of media jobs, and other overrides. */
  media?: Partial<MediaDownloadsOptions>;
}

/** The outbound side, wired from configuration: routing table, Pinbot client, rate limit, outbox, media. */
export function createOutbound(deps: OutboundDeps): OutboundStack {
  let endpoints: PinbotEndpoints;
  try {
    endpoints = new PinbotEndpoints(pinbotSettings(deps.config));
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const log = deps.log.child({ component: 'outbound' });
  const limiter = new RateLimiter({ kv: deps.kv, log, perSecond: MESSAGES_PER_SECOND });
  const client = new PinbotClient({ log, limiter, ...deps.client });
  const media = new MediaDownloads({
    store: deps.store, storage: deps.mediaStorage, client, endpoints, rooms: deps.rooms, log, pod: deps.config.POD_ID, linkSecret: deps.config.AGENT_JWT_SECRET,
    retryWindowMs: deps.config.MEDIA_RETRY_WINDOW_MS, backoffMs: deps.config.MEDIA_RETRY_BACKOFF_MS, downloadTimeoutMs: deps.config.MEDIA_DOWNLOAD_TIMEOUT_MS,
    ...deps.media,
  });
  const cache = new ChatResponseCache(deps.kv);
  const outbox = new Outbox({ store: deps.store, client, endpoints, rooms: deps.rooms, log, pod: deps.config.POD_ID, media, responses: cache, ...deps.outbox });
  const keyed = endpoints.sendTypes.filter((t) => endpoints.resolve(t).apiKey !== undefined);
  log.info({ live: keyed, dryRun: endpoints.sendTypes.filter((t) => !keyed.includes(t)) }, keyed.length ? 'outbound WhatsApp: channels with an API key send through Pinbot' : 'outbound WhatsApp: dry-run (no API keys)');
  return {
    outbox,
    media,
    cache,
    client,
    endpoints,
    async close(timeoutMs) {
      await Promise.all([outbox.close(timeoutMs), media.close(Math.min(timeoutMs, 2000))]);
      await client.close();
      await limiter.close();
    },
  };
}
