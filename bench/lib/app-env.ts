/** The environment a benchmarked smart-chat pod runs with (loadConfig overrides). */
export const BENCH_JWT_SECRET = 'bench-secret-0123456789abcdef';

export interface AppBackends {
  /** Unset: embedded document store. */
  mongoUrl?: string;
  mongoDb?: string;
  /** Unset: embedded key-value layer (single pod). */
  redisUrl?: string;
  redisPrefix?: string;
}

export function appEnv(b: AppBackends = {}, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    AGENT_JWT_SECRET: BENCH_JWT_SECRET,
    COMMUNICATION_MASTER_URL: '',
    ...(b.mongoUrl ? { MONGO_URL: b.mongoUrl, MONGO_DB: b.mongoDb ?? 'bench' } : {}),
    ...(b.redisUrl ? { REDIS_URL: b.redisUrl, REDIS_PREFIX: b.redisPrefix ?? 'bench:' } : {}),
    ...extra,
  };
}

export const backendLabel = (b: AppBackends): string => (b.mongoUrl || b.redisUrl ? 'redis+mongo' : 'embedded');
