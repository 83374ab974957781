/**
 * Where the page loads a stored media file from. GET /api/media/{id} wants the
 * token in a header, which <img>/<video>/<audio> cannot send, so the console
 * asks GET /api/media/{id}/link for a signed link to that one file (valid an
 * hour) and uses it as the element's source: the browser then streams it with
 * ranges and caching, instead of holding the whole file in a blob.
 */
import { getJson } from './api.ts';

const MAX_CACHED = 200;
/** Links are fetched again this long before they expire. */
const MARGIN_MS = 5 * 60_000;
const cache = new Map<string, Promise<{ url: string; expiresAt: number }>>();

export async function mediaSrc(path: string): Promise<string> {
  let hit = cache.get(path);
  if (hit) {
    const got = await hit.catch(() => undefined);
    if (!got || got.expiresAt - MARGIN_MS < Date.now()) hit = undefined;
  }
  if (!hit) {
    hit = getJson<{ data: { url: string; expires_at: string } }>(`${path}/link`).then((r) => ({ url: r.data.url, expiresAt: Date.parse(r.data.expires_at) }));
    hit.catch(() => cache.delete(path));
    cache.delete(path);
    cache.set(path, hit);
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  }
  return (await hit).url;
}
