import { z } from 'zod';
import type { TeamsStore } from '../actors/inbox/teams-store.ts';
import { CHANNELS } from '../domain/channels.ts';
import { usernameSchema } from '../domain/agent-account.ts';
import { AppError } from '../infra/errors.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface InboxRoutesDeps {
  teams: TeamsStore;
  auth: Authenticator;
  /** The admin request budget per client address. */
  adminLimit?: HttpRateLimit;
}

const HUMAN_NUMBERS = CHANNELS.filter((c) => !c.automated).map((c) => c.id) as [string, ...string[]];

export const teamId = z.string().regex(/^[a-z0-9_-]{1,40}$/, '1 to 40 lower-case letters, digits, _ and -').describe('the team\'s id, e.g. `drivers`');

export const teamBody = z.strictObject({
  name: z.string().trim().min(1).max(80),
  agents: z.array(usernameSchema).max(500).refine((a) => new Set(a).size === a.length, 'each agent once').describe('usernames of the team\'s agents'),
  numbers: z.array(z.enum(HUMAN_NUMBERS)).max(HUMAN_NUMBERS.length).refine((n) => new Set(n).size === n.length, 'each number once').describe('the WhatsApp numbers (channel ids) whose chats the team answers; a number belongs to one team at most'),
});

export const settingsBody = z.strictObject({ agent_cap: z.number().int().min(1).max(1000).describe('open chats (active + pending) an agent may hold before round robin skips them') });

const teamView = z.object({ id: z.string(), name: z.string(), agents: z.array(z.string()), numbers: z.array(z.string()) });

/** Team inbox administration (#18): teams (agents + numbers) and the per-agent cap. Each pass of the assigner reads them, on every pod. */
export function registerInboxRoutes(router: HttpRouter, deps: InboxRoutesDeps): void {
  router.get('/api/inbox/teams', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    return { json: { status: 1, teams: await deps.teams.all() } };
  }, { rateLimit: deps.adminLimit });

  router.put('/api/inbox/teams/:team', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const id = validate(teamId, req.params[0] ?? '');
    const body = validate(teamBody, req.json());
    return { json: { status: 1, team: await deps.teams.put({ id, ...body }) } };
  }, { rateLimit: deps.adminLimit });

  router.delete('/api/inbox/teams/:team', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const id = validate(teamId, req.params[0] ?? '');
    if (!(await deps.teams.remove(id))) throw new AppError('NOT_FOUND', `No team ${id}`);
    return { json: { status: 1 } };
  }, { rateLimit: deps.adminLimit });

  router.get('/api/inbox/settings', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    return { json: { status: 1, settings: await deps.teams.getSettings() } };
  }, { rateLimit: deps.adminLimit });

  router.put('/api/inbox/settings', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    return { json: { status: 1, settings: await deps.teams.putSettings(validate(settingsBody, req.json())) } };
  }, { rateLimit: deps.adminLimit });
}

export const inboxRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/inbox/teams', tags: ['inbox'], auth: 'admin', summary: 'The teams: their agents and the WhatsApp numbers they answer',
    responses: { 200: { description: 'Every team, by id', schema: okBody({ teams: z.array(teamView) }) } },
  },
  {
    method: 'put', path: '/api/inbox/teams/{team}', tags: ['inbox'], auth: 'admin', summary: 'Create or replace a team',
    description: 'New chats on its numbers are assigned round robin among its online agents. A number no team has goes to every online agent.',
    params: { team: { schema: teamId } },
    body: teamBody,
    responses: { 200: { description: 'The team as stored', schema: okBody({ team: teamView }) } },
    errors: ['NUMBER_IN_OTHER_TEAM'],
  },
  {
    method: 'delete', path: '/api/inbox/teams/{team}', tags: ['inbox'], auth: 'admin', summary: 'Remove a team',
    description: 'Its numbers go back to the default pool (every online agent).',
    params: { team: { schema: teamId } },
    responses: { 200: { description: 'Removed', schema: okBody({}) } },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED'],
  },
  {
    method: 'get', path: '/api/inbox/settings', tags: ['inbox'], auth: 'admin', summary: 'The assignment settings (per-agent cap of open chats)',
    responses: { 200: { description: 'The settings', schema: okBody({ settings: settingsBody }) } },
  },
  {
    method: 'put', path: '/api/inbox/settings', tags: ['inbox'], auth: 'admin', summary: 'Set the per-agent cap of open chats',
    body: settingsBody,
    responses: { 200: { description: 'The settings as stored', schema: okBody({ settings: settingsBody }) } },
  },
];
