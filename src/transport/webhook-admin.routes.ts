import { z } from 'zod';
import type { UsersStore } from '../actors/chat/users-store.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import { safeEqual } from '../infra/safe-equal.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface WebhookAdminDeps {
  users: UsersStore;
  auth: Authenticator;
  /** Unset: every verification attempt fails (CONTRACT.md). */
  verifyToken: string | undefined;
  /** The admin request budget per client address. */
  adminLimit?: HttpRateLimit;
}

const mobile = z.string().transform((v, ctx) => normalizeNumber(v) ?? (ctx.addIssue({ code: 'custom', message: 'not a phone number (10-digit national, or with country code)' }), z.NEVER));

export const userUpdate = z.object({
  mobile,
  documents_status: z.enum(['Approved', 'Pending', 'Rejected']).optional(),
  dco_status: z.enum(['Active', 'Suspend', 'Inactive']).optional(),
  in_journey_status: z.boolean().optional(),
  name: z.string().max(200).optional(),
});

/** Spec FR-8: the Meta verification handshake and user profile updates from other OneWay.Cab systems. */
export function registerWebhookAdminRoutes(router: HttpRouter, deps: WebhookAdminDeps): void {
  router.get('/api/webhook/verify', (req) => {
    const q = (name: string) => req.query.get(`hub.${name}`) ?? req.query.get(`hub_${name}`) ?? '';
    const token = q('verify_token');
    const mode = q('mode');
    if ((mode === '' || mode === 'subscribe') && deps.verifyToken !== undefined && safeEqual(token, deps.verifyToken)) {
      return { text: q('challenge') };
    }
    throw new AppError('VERIFY_TOKEN_MISMATCH');
  });

  router.post('/api/webhook/user/update', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const { mobile: m, ...fields } = validate(userUpdate, req.json());
    await deps.users.upsertProfile(m, fields);
    return { json: { status: 1, data: { mobile: m } } };
  }, { rateLimit: deps.adminLimit });
}

/** The verification handshake's query (read by hand above: `hub.x` or `hub_x`). */
export const verifyQuery = z.object({
  'hub.mode': z.string().optional().describe('`subscribe` (also accepted as `hub_mode`)'),
  'hub.challenge': z.string().optional().describe('echoed back on success (also `hub_challenge`)'),
  'hub.verify_token': z.string().optional().describe('must equal WEBHOOK_VERIFY_TOKEN (also `hub_verify_token`)'),
});

export const webhookAdminRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/webhook/verify', tags: ['webhook'], summary: 'Meta webhook verification handshake (spec FR-8)',
    query: verifyQuery,
    responses: { 200: { description: 'The challenge, as the plain body', contentType: 'text/plain' } },
    errors: ['VERIFY_TOKEN_MISMATCH'],
  },
  {
    method: 'post', path: '/api/webhook/user/update', tags: ['webhook'], auth: 'admin', summary: 'Upsert a user profile (spec FR-8)',
    body: userUpdate,
    responses: { 200: { description: 'The stored profile\'s number', schema: okBody({ data: z.object({ mobile: z.string() }) }) } },
    errors: ['VALIDATION_FAILED'],
  },
];
