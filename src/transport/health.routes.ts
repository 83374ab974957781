import { z } from 'zod';
import type { Metrics } from '../infra/metrics.ts';
import { errorDetail, okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRouter } from './http.ts';

/** A dependency the readiness probe asks: resolves to its state or rejects with the reason. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<'ok' | 'embedded'>;
}

export interface HealthDeps {
  checks: readonly ReadinessCheck[];
  metrics: Metrics;
  /** True once shutdown has begun: readiness fails so the balancer stops sending work. */
  isDraining(): boolean;
}

/** Liveness, readiness (spec FR-11) and Prometheus metrics. */
export function registerHealthRoutes(router: HttpRouter, deps: HealthDeps): void {
  router.get('/api/health', () => ({ json: { status: 1, message: 'Smart Chat API Running' } }));

  router.get('/api/health/ready', async () => {
    const results = await Promise.all(
      deps.checks.map(async (c) => {
        try {
          return [c.name, await c.check()] as const;
        } catch (err) {
          return [c.name, `error: ${(err as Error).message}`] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, state]) => state !== 'ok' && state !== 'embedded').map(([name]) => name);
    if (deps.isDraining()) failing.push('draining');
    if (failing.length === 0) return { json: { status: 1, checks } };
    return {
      status: 503,
      json: { status: 0, checks, error: { code: 'NOT_READY', message: `not ready: ${failing.join(', ')}` } },
    };
  });

  router.get('/metrics', async () => ({ text: await deps.metrics.text(), contentType: deps.metrics.contentType }));
}

const checkState = z.string().describe('`ok`, `embedded`, or `error: <reason>`');

/** What the routes above answer (the OpenAPI document is built from it). */
export const healthRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/health', tags: ['health'], summary: 'Liveness',
    responses: { 200: { description: 'The process is up', schema: okBody({ message: z.literal('Smart Chat API Running') }) } },
  },
  {
    method: 'get', path: '/api/health/ready', tags: ['health'], summary: 'Readiness (spec FR-11)',
    description: 'Pings MongoDB and Redis (`embedded` in embedded mode); 503 while one fails or the pod drains.',
    responses: {
      200: { description: 'Ready', schema: okBody({ checks: z.record(z.string(), checkState) }) },
      503: { description: 'Not ready: a check failed or the pod is draining', schema: z.object({ status: z.literal(0), checks: z.record(z.string(), checkState), error: errorDetail(['NOT_READY']) }) },
    },
  },
  {
    method: 'get', path: '/metrics', tags: ['health'], summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
  },
];
