/**
 * Redis and the MongoDB wire-protocol server for benchmarks, started the way
 * `npm test` starts them (test/support), or taken from BENCH_REDIS_URL /
 * BENCH_MONGO_URL when a parent process already started them.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongoServer } from '../../test/support/mongo-server.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';
import { BENCH_DIR } from './proc.ts';

export interface Services {
  redisUrl: string;
  mongoUrl: string;
  stop(): Promise<void>;
}

/**
 * The MongoDB test server's JVM for benchmarks: the tests' serial collector. `BENCH_MONGO_JVM` overrides it
 * (e.g. `-XX:+UseParallelGC`); G1 and Parallel did not change message→agent p99 (bench/notes.md).
 */
const BENCH_JVM_ARGS = ['-XX:+UseSerialGC'];

/** Builds the MongoDB test server's jar if needed (Java 17 + Maven), then starts private servers. */
export async function startServices(): Promise<Services> {
  const build = spawnSync('bash', [join(BENCH_DIR, '..', 'test/mongo-server/build.sh')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building the MongoDB test server failed (needs Java 17 and Maven)');
  const jvmArgs = process.env.BENCH_MONGO_JVM?.split(' ').filter(Boolean) ?? BENCH_JVM_ARGS;
  const [redis, mongo] = await Promise.all([startRedisServer({ private: true }), startMongoServer({ private: true, jvmArgs })]);
  return { redisUrl: redis.url, mongoUrl: mongo.url, stop: async () => void (await Promise.allSettled([redis.stop(), mongo.stop()])) };
}

/** The services a parent started (`bench/run.ts`), or new private ones when run alone. */
export async function servicesFromEnv(): Promise<Services> {
  const redisUrl = process.env.BENCH_REDIS_URL;
  const mongoUrl = process.env.BENCH_MONGO_URL;
  if (redisUrl && mongoUrl) return { redisUrl, mongoUrl, stop: async () => {} };
  return startServices();
}

/** Drops benchmark databases so the in-memory test server gives its memory back. */
export async function dropDatabases(mongoUrl: string, names: readonly string[]): Promise<void> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    for (const n of names) await client.db(n).dropDatabase().catch(() => undefined);
  } finally {
    await client.close();
  }
}
