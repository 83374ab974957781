/** Owns `discount_code_template`: the discount route catalogue (spec §5.6). */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { routeTemplateSchema, type RouteTemplate } from '../../domain/discount-catalogue.ts';
import { AppError } from '../../infra/errors.ts';
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import { isDuplicateKey, type DocumentStore } from '../../infra/store/store.ts';

const TEMPLATES = 'discount_code_template';
/** Bumped by every edit through the API; every pod compares it before using its cached catalogue. */
const VERSION_KEY = 'discount:catalogue:version';

const seedSchema = z.object({ default_campaign_route: z.string(), routes: z.array(routeTemplateSchema).min(1) });

/** How long the catalogue is cached when nothing bumps the version: a hand edit in MongoDB reaches every pod within this. */
const CACHE_MS = 30_000;

/** What an admin may change on a route (`PUT /api/discount/routes/{route}`), already validated. */
export interface RouteEdit {
  code?: string;
  header?: string;
  body?: string;
  footer?: string;
  enabled?: boolean;
}

/**
 * The route catalogue: seeded from the repo's data file at first start, then
 * edited through the admin API (or in the database) without a deploy.
 *
 * Every pod caches it. An edit through the API bumps a version number in the
 * key-value store (Redis in cluster mode) before it is answered, and every
 * read compares that version first: the next offer on every pod uses the
 * edit, at the cost of one GET per discount message. (A pub/sub invalidation
 * arrives after the PUT's answer and is lost by a pod whose subscription is
 * reconnecting; a short TTL leaves a stale window.) Hand edits in MongoDB,
 * which bump nothing, reach every pod within 30 s.
 */
export class CatalogueStore {
  private cache: { at: number; version: string | null; routes: RouteTemplate[] } | undefined;
  private readonly templates;

  constructor(
    store: DocumentStore,
    private readonly log: Logger,
    private readonly kv?: KeyValueStore,
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
    const version = await this.version();
    if (this.cache && this.cache.version === version && Date.now() - this.cache.at < CACHE_MS) return this.cache.routes;
    const routes: RouteTemplate[] = [];
    for (const doc of await this.templates.find({}, { sort: { _id: 1 } })) {
      const parsed = routeTemplateSchema.safeParse(doc);
      if (parsed.success) routes.push(parsed.data);
      else this.log.warn({ id: doc._id }, 'discount route ignored: it does not match the template schema');
    }
    this.cache = { at: Date.now(), version, routes };
    return routes;
  }

  /**
   * Applies `edit` to route `id` (NOT_FOUND for an unknown one), then bumps the catalogue version so the
   * next offer on every pod uses it. A new code replaces the old one wherever the texts showed it, and
   * makes the route's code real (no longer a placeholder).
   */
  async update(id: string, edit: RouteEdit): Promise<RouteTemplate> {
    const doc = await this.templates.findOne({ _id: id });
    const stored = doc && routeTemplateSchema.safeParse(doc);
    if (!stored) throw new AppError('NOT_FOUND', `No discount route ${id}`);
    if (!stored.success) throw new AppError('INTERNAL', `discount route ${id} does not match the template schema`);
    const current = stored.data;
    const next: RouteTemplate = { ...current, ...definedFields(edit) };
    if (edit.code !== undefined && edit.code !== current.code) {
      next.sample_code = false;
      if (edit.header === undefined) next.header = current.header.split(current.code).join(edit.code);
      if (edit.body === undefined) next.body = current.body.split(current.code).join(edit.code);
    }
    const checked = routeTemplateSchema.safeParse(next);
    if (!checked.success) throw new AppError('VALIDATION_FAILED', checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    if (next.enabled && next.sample_code) throw new AppError('VALIDATION_FAILED', `enabled: route ${id} still has a placeholder code; set its real code first`);
    if (next.enabled && !next.body.includes(next.code)) throw new AppError('VALIDATION_FAILED', `body: must show the code ${next.code}`);
    const { _id, ...fields } = next;
    const r = await this.templates.updateOne({ _id }, { $set: { ...fields, updated_at: new Date() } });
    if (r.matched !== 1) throw new AppError('NOT_FOUND', `No discount route ${id}`);
    await this.kv?.incrBy(VERSION_KEY, 1);
    this.cache = undefined;
    return next;
  }

  /** Forget the cache (after an edit through this pod, and in tests). */
  invalidate(): void {
    this.cache = undefined;
  }

  /** The catalogue's version, or null without a key-value store; a store that fails leaves the 30 s rule alone in charge. */
  private async version(): Promise<string | null> {
    if (!this.kv) return null;
    try {
      return await this.kv.get(VERSION_KEY);
    } catch (err) {
      this.log.warn({ err }, 'discount catalogue version unreadable: using the cached catalogue (up to 30 s old)');
      return this.cache?.version ?? null;
    }
  }
}

function definedFields(edit: RouteEdit): Partial<RouteTemplate> {
  return Object.fromEntries(Object.entries(edit).filter(([, v]) => v !== undefined)) as Partial<RouteTemplate>;
}
