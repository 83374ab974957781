import { channelById } from '../../domain/channels.ts';
import type { PinbotEndpoints } from '../../domain/pinbot-endpoints.ts';
import { mediaDownloadPath } from '../../domain/pinbot-endpoints.ts';
import type { Logger } from '../../infra/logger.ts';
import { MediaStore, mediaUrl } from '../../infra/pinbot/media-store.ts';
import type { PinbotClient } from '../../infra/pinbot/pinbot-client.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { LaneQueue } from './outbox-queue.ts';
import type { MediaJob } from './outbound.ts';
import type { RoomPublisher } from '../runtime/room-publisher.ts';
import { ChatStore } from '../chat/chat-store.ts';

export interface MediaFetcherOptions {
  store: DocumentStore;
  client: PinbotClient;
  endpoints: PinbotEndpoints;
  rooms: RoomPublisher;
  log: Logger;
  /** Larger files are refused (WhatsApp's own video limit is 16 MB). */
  maxBytes?: number;
  concurrency?: number;
  maxQueue?: number;
}

export const MEDIA_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Fetches media customers send (`GET {PINBOT_ORIGIN}/v1/downloadmedia/{id}`
 * with the channel's key and number) in the background, keeps it in the
 * media store, sets `mediaUrl` on the message (`chat-store.ts`) and pushes
 * `message_media` to the chat's room. Channels without a key skip it (dry-run).
 */
export class MediaFetcher {
  private readonly queue: LaneQueue;
  private readonly jobs = new Map<string, MediaJob>();
  private readonly media: MediaStore;
  private readonly messages: ChatStore;
  private readonly maxBytes: number;

  constructor(private readonly opts: MediaFetcherOptions) {
    this.media = new MediaStore(opts.store);
    this.messages = new ChatStore(opts.store);
    this.maxBytes = opts.maxBytes ?? MEDIA_MAX_BYTES;
    this.queue = new LaneQueue((id) => this.fetch(id), {
      concurrency: opts.concurrency ?? 2,
      maxQueued: opts.maxQueue ?? 1000,
      onError: (err, id) => opts.log.error({ err, mediaId: id }, 'media download failed unexpectedly'),
    });
  }

  enqueue(job: MediaJob): void {
    const sendType = channelById(job.channel)?.sendType;
    const route = sendType ? this.opts.endpoints.resolve(sendType) : undefined;
    if (!route?.apiKey) {
      this.opts.log.debug({ mediaId: job.mediaId, channel: job.channel }, 'media download skipped (dry-run: no API key for this channel)');
      return;
    }
    const id = `${job.messageId}|${job.mediaId}`;
    if (this.queue.has(id)) return;
    this.jobs.set(id, job);
    if (!this.queue.push(job.mediaId, id)) {
      this.jobs.delete(id);
      this.opts.log.warn({ mediaId: job.mediaId }, 'media download queue full: not downloaded');
    }
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async close(timeoutMs = 2000): Promise<void> {
    await this.queue.close(timeoutMs);
    this.jobs.clear();
  }

  private async fetch(id: string): Promise<void> {
    const job = this.jobs.get(id);
    this.jobs.delete(id);
    if (!job) return;
    try {
      if (!(await this.media.has(job.mediaId))) {
        const route = this.opts.endpoints.resolveMedia(channelById(job.channel)!.sendType);
        const { bytes, contentType } = await this.opts.client.download(
          { originUrl: route.originUrl, path: mediaDownloadPath(job.mediaId), apiKey: route.apiKey!, wanumber: route.wanumber, businessNumber: route.businessNumber, channel: route.sendType },
          this.maxBytes,
          { outboxKey: `media:${job.mediaId}`, type: 'media' },
        );
        await this.media.save(job.mediaId, bytes, { mimeType: job.mimeType ?? contentType, chatId: job.chatId, messageId: job.messageId });
      }
      const url = mediaUrl(job.mediaId);
      await this.messages.setMediaStored(job.messageId, url);
      this.opts.rooms.publish(job.chatId, 'message_media', { chat_id: job.chatId, message_id: job.messageId, mediaUrl: url });
    } catch (err) {
      const reason = (err as Error).message ?? String(err);
      this.opts.log.warn({ mediaId: job.mediaId, channel: job.channel, err: reason }, 'media download failed');
      await this.messages.setMediaFailed(job.messageId, reason.slice(0, 300)).catch(() => undefined);
    }
  }
}
