import { z } from 'zod';
import type { CannedResponse, CannedResponses } from '../actors/desk/canned-responses.ts';
import type { CatalogueLabel, LabelCatalogue } from '../actors/desk/label-catalogue.ts';
import { cannedTextSchema, cannedTitleSchema, labelColorSchema, labelDescriptionSchema, labelNameSchema, shortcodeSchema } from '../domain/desk-settings.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface DeskRoutesDeps {
  canned: CannedResponses;
  labels: LabelCatalogue;
  auth: Authenticator;
  /** The admin request budget per client address. */
  adminLimit?: HttpRateLimit;
}

const atLeastOne = (fields: string) => (o: Record<string, unknown>) => Object.values(o).some((v) => v !== undefined) || `${fields}: at least one`;

export const newCannedBody = z.strictObject({ shortcode: shortcodeSchema, title: cannedTitleSchema, text: cannedTextSchema });
export const cannedPatchBody = z
  .strictObject({ title: cannedTitleSchema.optional(), text: cannedTextSchema.optional() })
  .refine((p) => atLeastOne('title or text')(p) === true, 'title or text: at least one');

export const newLabelBody = z.strictObject({ name: labelNameSchema, color: labelColorSchema, description: labelDescriptionSchema.default('') });
export const labelPatchBody = z
  .strictObject({ color: labelColorSchema.optional(), description: labelDescriptionSchema.optional() })
  .refine((p) => atLeastOne('color or description')(p) === true, 'color or description: at least one');

const cannedView = z.object({
  shortcode: z.string(),
  title: z.string(),
  text: z.string().describe('with its `{{variables}}` as written; the console fills them in'),
  updated_by: z.string(),
  updated_at: z.iso.datetime({ offset: true }),
});
const labelView = z.object({ name: z.string(), color: z.string(), description: z.string() });

/** Canned responses (any agent reads, admins edit) and the label catalogue (the same). */
export function registerDeskRoutes(router: HttpRouter, deps: DeskRoutesDeps): void {
  const admin = { rateLimit: deps.adminLimit };
  router.get('/api/canned-responses', async (req) => {
    await authenticate(req, deps.auth);
    return { json: { status: 1, data: (await deps.canned.list()).map(cannedOut) } };
  });
  router.post('/api/canned-responses', async (req) => {
    const who = await authenticate(req, deps.auth, 'admin');
    const { shortcode, ...fields } = validate(newCannedBody, req.json());
    return { json: { status: 1, data: cannedOut(await deps.canned.create(shortcode, fields, who.sub)) } };
  }, admin);
  router.patch('/api/canned-responses/:shortcode', async (req) => {
    const who = await authenticate(req, deps.auth, 'admin');
    const shortcode = param('shortcode', shortcodeSchema, req.params[0]);
    return { json: { status: 1, data: cannedOut(await deps.canned.update(shortcode, validate(cannedPatchBody, req.json()), who.sub)) } };
  }, admin);
  router.delete('/api/canned-responses/:shortcode', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    await deps.canned.remove(param('shortcode', shortcodeSchema, req.params[0]));
    return { json: { status: 1 } };
  }, admin);

  router.get('/api/labels', async (req) => {
    await authenticate(req, deps.auth);
    return { json: { status: 1, data: (await deps.labels.list()).map(labelOut) } };
  });
  router.post('/api/labels', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const { name, ...fields } = validate(newLabelBody, req.json());
    return { json: { status: 1, data: labelOut(await deps.labels.create(name, fields)) } };
  }, admin);
  router.patch('/api/labels/:name', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const name = param('name', labelNameSchema, req.params[0]);
    return { json: { status: 1, data: labelOut(await deps.labels.update(name, validate(labelPatchBody, req.json()))) } };
  }, admin);
  router.delete('/api/labels/:name', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    await deps.labels.remove(param('name', labelNameSchema, req.params[0]));
    return { json: { status: 1 } };
  }, admin);
}

/** A path parameter, validated so the error names it. */
function param<S extends z.ZodType>(name: string, schema: S, value: string | undefined): z.infer<S> {
  return (validate(z.object({ [name]: schema }), { [name]: value ?? '' }) as Record<string, z.infer<S>>)[name]!;
}

function cannedOut(c: CannedResponse): z.infer<typeof cannedView> {
  return { shortcode: c._id, title: c.title, text: c.text, updated_by: c.updated_by, updated_at: c.updated_at.toISOString() };
}

function labelOut(l: CatalogueLabel): z.infer<typeof labelView> {
  return { name: l._id, color: l.color, description: l.description };
}

export const deskRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/canned-responses', tags: ['desk'], auth: 'agent', summary: 'Every canned response, by shortcode',
    description: 'The console offers them when an agent types `/` in the reply box and fills in `{{customer_name}}`, `{{customer_number}}` and `{{agent_name}}`.',
    responses: { 200: { description: 'The responses', schema: okBody({ data: z.array(cannedView) }) } },
  },
  {
    method: 'post', path: '/api/canned-responses', tags: ['desk'], auth: 'admin', summary: 'Add a canned response',
    description: 'A `{{variable}}` other than the three known ones is refused (400), so a typo never reaches a customer.',
    body: newCannedBody,
    responses: { 200: { description: 'The new response', schema: okBody({ data: cannedView }) } },
    errors: ['CANNED_RESPONSE_EXISTS'],
  },
  {
    method: 'patch', path: '/api/canned-responses/{shortcode}', tags: ['desk'], auth: 'admin', summary: 'Change a canned response\'s title or text',
    params: { shortcode: { schema: shortcodeSchema } },
    body: cannedPatchBody,
    responses: { 200: { description: 'The response as it is now', schema: okBody({ data: cannedView }) } },
    errors: ['NOT_FOUND'],
  },
  {
    method: 'delete', path: '/api/canned-responses/{shortcode}', tags: ['desk'], auth: 'admin', summary: 'Remove a canned response',
    params: { shortcode: { schema: shortcodeSchema } },
    responses: { 200: { description: 'Removed', schema: okBody({}) } },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/api/labels', tags: ['desk'], auth: 'agent', summary: 'The label catalogue: the labels agents add to chats and filter by',
    responses: { 200: { description: 'The labels, by name', schema: okBody({ data: z.array(labelView) }) } },
  },
  {
    method: 'post', path: '/api/labels', tags: ['desk'], auth: 'admin', summary: 'Define a label',
    body: newLabelBody,
    responses: { 200: { description: 'The new label', schema: okBody({ data: labelView }) } },
    errors: ['LABEL_EXISTS'],
  },
  {
    method: 'patch', path: '/api/labels/{name}', tags: ['desk'], auth: 'admin', summary: 'Change a label\'s colour or description',
    params: { name: { schema: labelNameSchema } },
    body: labelPatchBody,
    responses: { 200: { description: 'The label as it is now', schema: okBody({ data: labelView }) } },
    errors: ['NOT_FOUND'],
  },
  {
    method: 'delete', path: '/api/labels/{name}', tags: ['desk'], auth: 'admin', summary: 'Remove a label from the catalogue',
    description: 'Chats that carry it keep it until an agent removes it.',
    params: { name: { schema: labelNameSchema } },
    responses: { 200: { description: 'Removed', schema: okBody({}) } },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED'],
  },
];
