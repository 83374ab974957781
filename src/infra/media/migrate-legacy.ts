/**
 * The one-off copy of media kept in the old chunk format into the configured
 * driver (`npm run media:migrate`): each file is read, stored, checked by its
 * entity tag, and only then removed from the old collections. Safe to stop
 * and run again; files never need it to be served (the fallback reads them).
 */
import type { LegacyChunkMedia } from './media-legacy.ts';
import type { MediaStorage } from './media-storage.ts';

const BATCH = 100;

export async function migrateLegacyMedia(legacy: LegacyChunkMedia, target: MediaStorage, log: (line: string) => void = () => undefined): Promise<{ moved: number; failed: number }> {
  let moved = 0;
  let failed = 0;
  let after = '';
  for (;;) {
    const ids = await legacy.ids(after, BATCH);
    if (ids.length === 0) return { moved, failed };
    for (const id of ids) {
      after = id;
      try {
        const meta = await legacy.stat(id);
        if (!meta) continue;
        const chunks: Buffer[] = [];
        for await (const c of await legacy.open(id)) chunks.push(c as Buffer);
        const stored = await target.put(id, Buffer.concat(chunks), meta.contentType);
        if (stored.etag !== meta.etag || stored.size !== meta.size) throw new Error(`copy of ${id} does not match (size ${stored.size}/${meta.size})`);
        await legacy.delete(id);
        moved++;
      } catch (err) {
        failed++;
        log(`media ${id}: not migrated: ${(err as Error).message}`);
      }
    }
    log(`media migration: ${moved} moved, ${failed} failed so far`);
  }
}
