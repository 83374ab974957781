import type { Metrics } from '../infra/metrics.ts';
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
