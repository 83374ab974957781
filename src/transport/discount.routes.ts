import { z } from 'zod';
import type { CatalogueStore } from '../actors/discount/catalogue-store.ts';
import { isPlaceholderCode, toDiscountRoute, type RouteTemplate } from '../domain/discount-catalogue.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface DiscountRoutesDeps {
  catalogue: CatalogueStore;
  auth: Authenticator;
  /** The admin request budget per client address. */
  adminLimit?: HttpRateLimit;
}

/** A route's key, as the catalogue names it (`pune-mumbai-airport`); the router has already percent-decoded it. */
export const routeKey = z.string().max(64).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by single hyphens').describe('the route\'s key, e.g. `pune-mumbai-airport`');

/** A code customers type at checkout: capital letters and digits, like `TRUST4111`; never a `SAMPLE…` placeholder. */
const code = z
  .string()
  .regex(/^[A-Z0-9]{4,20}$/, '4 to 20 capital letters and digits')
  .refine((c) => !/^SAMPLE/.test(c), 'a SAMPLE… code is a placeholder, not a code customers can use');
/** One line of text (no line breaks): WhatsApp shows headers and footers on a single line. */
const line = (max: number) => z.string().trim().min(1).max(max).regex(/^[^\r\n]*$/, 'one line');

export const routeEditBody = z
  .strictObject({
    code: code.optional().describe('the discount code; replaces the old code wherever the texts showed it'),
    header: line(60).optional(),
    body: z.string().trim().min(1).max(1024).optional().describe('the offer text; must show the code when the route is enabled'),
    footer: line(60).optional(),
    enabled: z.boolean().optional().describe('offer this route; a route with a placeholder code cannot be enabled'),
  })
  .refine((e) => Object.values(e).some((v) => v !== undefined), 'code, header, body, footer or enabled: at least one');

const routeView = z.object({
  route: z.string(),
  name: z.string(),
  from: z.string(),
  to: z.string(),
  price: z.number().int(),
  code: z.string(),
  placeholder: z.boolean().describe('the code is a placeholder (never offered)'),
  enabled: z.boolean(),
  available: z.boolean().describe('offered now: enabled, a real code, inside its validity dates'),
  valid_from: z.iso.datetime({ offset: true }),
  valid_until: z.iso.datetime({ offset: true }),
  header: z.string(),
  body: z.string(),
  footer: z.string(),
});

/** The discount route catalogue for admins: list it, and set a route's code, texts and enabled flag (the next offer on every pod uses them). */
export function registerDiscountRoutes(router: HttpRouter, deps: DiscountRoutesDeps): void {
  router.get('/api/discount/routes', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const now = Date.now();
    return { json: { status: 1, data: (await deps.catalogue.all()).map((r) => view(r, now)) } };
  }, { rateLimit: deps.adminLimit });

  router.put('/api/discount/routes/:route', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const key = validate(routeKey, req.params[0] ?? '');
    const updated = await deps.catalogue.update(key, validate(routeEditBody, req.json()));
    return { json: { status: 1, data: view(updated, Date.now()) } };
  }, { rateLimit: deps.adminLimit });
}

function view(r: RouteTemplate, now: number): z.infer<typeof routeView> {
  return {
    route: r._id,
    name: r.route,
    from: r.from,
    to: r.to,
    price: r.price,
    code: r.code,
    placeholder: isPlaceholderCode(r),
    enabled: r.enabled,
    available: toDiscountRoute(r, now).available,
    valid_from: r.valid_from.toISOString(),
    valid_until: r.valid_until.toISOString(),
    header: r.header,
    body: r.body,
    footer: r.footer,
  };
}

export const discountRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/discount/routes', tags: ['discount'], auth: 'admin', summary: 'The discount route catalogue (spec FR-2, §5.6)',
    responses: { 200: { description: 'Every route, by key', schema: okBody({ data: z.array(routeView) }) } },
  },
  {
    method: 'put', path: '/api/discount/routes/{route}', tags: ['discount'], auth: 'admin', summary: 'Set a discount route\'s code, texts and enabled flag',
    description: 'The next offer on every pod uses the change, without a restart. Fields left out keep their value; a new code replaces the old one in the texts.',
    params: { route: { schema: routeKey } },
    body: routeEditBody,
    responses: { 200: { description: 'The route as it is now', schema: okBody({ data: routeView }) } },
    errors: ['NOT_FOUND'],
  },
];
