import type { KeyValueStore } from '../kv/kv.ts';

/**
 * The spec's cached chat responses (§6, FR-10): `chat_response::{message}`,
 * JSON, 30 minutes. Admins clear one (`delete_cache`) or all (`clear_cache`).
 */
export const CHAT_RESPONSE_PREFIX = 'chat_response::';
export const CHAT_RESPONSE_TTL_MS = 30 * 60_000;

export const chatResponseKey = (message: string): string => `${CHAT_RESPONSE_PREFIX}${message}`;

export class ChatResponseCache {
  constructor(private readonly kv: KeyValueStore) {}

  async get<T>(message: string): Promise<T | null> {
    const raw = await this.kv.get(chatResponseKey(message));
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async set(message: string, value: unknown): Promise<void> {
    await this.kv.set(chatResponseKey(message), JSON.stringify(value), { ttlMs: CHAT_RESPONSE_TTL_MS });
  }

  /** `delete_cache`: one message's entry; returns how many keys went (0 or 1). */
  delete(message: string): Promise<number> {
    return this.kv.del(chatResponseKey(message));
  }

  /**
   * `clear_cache`: every `chat_response::` entry. Not the spec's FLUSHDB: the
   * same Redis holds actor ownership, streams, counters and locks.
   */
  clear(): Promise<number> {
    return this.kv.deleteByPrefix(CHAT_RESPONSE_PREFIX);
  }
}
