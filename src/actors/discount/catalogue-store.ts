/** Owns `discount_code_template`: the discount route catalogue (spec §5.6). */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { routeTemplateSchema, type RouteTemplate } from '../../domain/discount-catalogue.ts';
import type { Logger } from '../../infra/logger.ts';
import { isDuplicateKey, type DocumentStore } from '../../infra/store/store.ts';

const TEMPLATES = 'discount_code_template';

const seedSchema = z.object({ default_campaign_route: z.string(), routes: z.array(routeTemplateSchema).min(1) });

/** How long the catalogue is cached: an edit in MongoDB reaches every pod within this. */
const CACHE_MS = 30_000;

/**
 * The route catalogue: seeded from the repo's data file at first start, then
 * edited in the database (codes, texts, validity dates, `enabled`) without a
 * deploy.
 */
export class CatalogueStore {
  private cache: { at: number; routes: RouteTemplate[] } | undefined;
  private readonly templates;

  constructor(
    store: DocumentStore,
    private readonly log: Logger,
  ) {
    this.templates = store.collection(TEMPLATES);
  }

  /** Inserts the seed routes that are missing (never overwrites an edited one). */
  async seed(path: string): Promise<number> {
    const seed = seedSchema.parse(JSON.parse(await readFile(path, 'utf8')));
    let inserted = 0;
    for (const r of seed.routes) {
      try {
        await this.templates.insertOne({ ...r, seeded_at: new Date() });
        inserted++;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (inserted) this.log.info({ inserted }, 'discount routes seeded');
    this.cache = undefined;
    return inserted;
  }

  async all(): Promise<RouteTemplate[]> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.routes;
    const routes: RouteTemplate[] = [];
    for (const doc of await this.templates.find({})) {
      const parsed = routeTemplateSchema.safeParse(doc);
      if (parsed.success) routes.push(parsed.data);
      else this.log.warn({ id: doc._id }, 'discount route ignored: it does not match the template schema');
    }
    this.cache = { at: Date.now(), routes };
    return routes;
  }

  /** Forget the cache (after an edit through this pod, and in tests). */
  invalidate(): void {
    this.cache = undefined;
  }
}
