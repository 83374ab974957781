/** Media bytes need the token (GET /api/media/{id} takes the Authorization header only): fetched, then shown from blob URLs. */
import { authFetch } from './api.ts';

const MAX_CACHED = 60;
const cache = new Map<string, Promise<string>>();

export function mediaBlobUrl(path: string): Promise<string> {
  let hit = cache.get(path);
  if (!hit) {
    hit = authFetch(path).then(async (r) => URL.createObjectURL(await r.blob()));
    hit.catch(() => cache.delete(path));
    cache.set(path, hit);
    if (cache.size > MAX_CACHED) {
      const [oldest, url] = cache.entries().next().value!;
      cache.delete(oldest);
      void url.then((u) => URL.revokeObjectURL(u), () => undefined);
    }
  }
  return hit;
}
