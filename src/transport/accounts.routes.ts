import { z } from 'zod';
import type { AgentAccounts } from '../actors/agents/agent-accounts.ts';
import { displayNameSchema, passwordSchema, roleSchema, usernameSchema } from '../domain/agent-account.ts';
import type { AgentSummary } from '../actors/agents/agents-store.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface AccountRoutesDeps {
  accounts: AgentAccounts;
  auth: Authenticator;
  /** The admin request budget per client address (the agents API; login has its own failure limit). */
  adminLimit?: HttpRateLimit;
}

/** Bounded so a hostile body never reaches the hash with megabytes; the rules themselves apply at creation, not here. */
export const loginBody = z.object({
  username: z.string().trim().toLowerCase().min(1).max(100),
  password: z.string().min(1).max(256),
});

export const newAgentBody = z.strictObject({ username: usernameSchema, name: displayNameSchema, password: passwordSchema, role: roleSchema.default('agent') });

export const agentPatchBody = z
  .strictObject({ name: displayNameSchema.optional(), role: roleSchema.optional(), password: passwordSchema.optional(), disabled: z.boolean().optional() })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'name, role, password or disabled: at least one');

const agentView = z.object({
  username: z.string(),
  name: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
  last_login_at: z.iso.datetime({ offset: true }).nullable(),
});

const loginReply = okBody({
  token: z.string().describe('HS256 JWT: `sub` the username, `role`, `exp`, `tv` the token version'),
  expires_at: z.iso.datetime({ offset: true }),
  agent: z.object({ username: z.string(), name: z.string(), role: roleSchema }),
});

/** Login and the admin API of agent accounts (CONTRACT.md "Tokens and agent accounts"). */
export function registerAccountRoutes(router: HttpRouter, deps: AccountRoutesDeps): void {
  router.post('/api/auth/login', async (req) => {
    const { username, password } = validate(loginBody, req.json());
    const result = await deps.accounts.login(username, password, req.remoteAddress);
    return { json: { status: 1, ...result } };
  });

  router.get('/api/agents', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    return { json: { status: 1, data: (await deps.accounts.list()).map(view) } };
  }, { rateLimit: deps.adminLimit });

  router.post('/api/agents', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const created = await deps.accounts.create(validate(newAgentBody, req.json()));
    return { json: { status: 1, data: view(created) } };
  }, { rateLimit: deps.adminLimit });

  router.patch('/api/agents/:username', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const username = validate(usernameParam, req.params[0]);
    const updated = await deps.accounts.update(username, validate(agentPatchBody, req.json()));
    return { json: { status: 1, data: view(updated) } };
  }, { rateLimit: deps.adminLimit });
}

const usernameParam = z.string().max(100).describe('the account\'s username');

function view(a: AgentSummary): z.infer<typeof agentView> {
  return {
    username: a.username,
    name: a.name,
    role: a.role,
    disabled: a.disabled,
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
    last_login_at: a.last_login_at?.toISOString() ?? null,
  };
}

export const accountRouteDocs: RouteDoc[] = [
  {
    method: 'post', path: '/api/auth/login', tags: ['accounts'], summary: 'Log in with an agent account: a token for the HTTP API and the WebSocket',
    description: 'Wrong username, wrong password and a disabled account all answer 401 `BAD_CREDENTIALS`. After 5 failures within a minute for one username or from one client address, 429 `RATE_LIMITED` with `Retry-After`.',
    body: loginBody,
    responses: { 200: { description: 'The token, when it expires, and who it is for', schema: loginReply } },
    errors: ['BAD_CREDENTIALS', 'RATE_LIMITED'],
  },
  {
    method: 'get', path: '/api/agents', tags: ['accounts'], auth: 'admin', summary: 'Every agent account (never a password hash)',
    responses: { 200: { description: 'The accounts, by username', schema: okBody({ data: z.array(agentView) }) } },
  },
  {
    method: 'post', path: '/api/agents', tags: ['accounts'], auth: 'admin', summary: 'Create an agent account',
    body: newAgentBody,
    responses: { 200: { description: 'The new account', schema: okBody({ data: agentView }) } },
    errors: ['AGENT_EXISTS'],
  },
  {
    method: 'patch', path: '/api/agents/{username}', tags: ['accounts'], auth: 'admin', summary: 'Edit an agent account: name, role, password, disabled',
    description: 'A new password, a new role or `disabled: true` revokes every token issued to the account before (within 60 s on every pod) and closes its WebSockets.',
    params: { username: { schema: usernameParam } },
    body: agentPatchBody,
    responses: { 200: { description: 'The account as it is now', schema: okBody({ data: agentView }) } },
    errors: ['NOT_FOUND'],
  },
];
