import type { DashboardCounters } from '../actors/chat/dashboard-counters.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { dashboardStats, okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRouter } from './http.ts';

/** `GET /api/dashboard/stats` (spec FR-6): read from the counters, never from a MongoDB aggregation. */
export function registerDashboardRoutes(router: HttpRouter, deps: { counters: DashboardCounters; auth: Authenticator }): void {
  router.get('/api/dashboard/stats', async (req) => {
    await authenticate(req, deps.auth);
    return { json: { status: 1, data: await deps.counters.stats() } };
  });
}

export const dashboardRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/dashboard/stats', tags: ['dashboard'], summary: 'Active / resolved chat counts (spec FR-6)', auth: 'agent',
    responses: { 200: { description: 'The live counters', schema: okBody({ data: dashboardStats }) } },
  },
];
