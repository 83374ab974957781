/**
 * The shared Redis and MongoDB-compatible server that `npm test` (test/run.ts)
 * starts for the whole run. A suite that needs one and finds it missing fails:
 * nothing is skipped for lack of a service.
 */
import { randomUUID } from 'node:crypto';

function required(name: 'TEST_REDIS_URL' | 'TEST_MONGO_URL'): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts Redis and the MongoDB test server`);
  return v;
}

export const testRedisUrl = (): string => required('TEST_REDIS_URL');
export const testMongoUrl = (): string => required('TEST_MONGO_URL');

/** A name no other test uses: a database name or key prefix that keeps parallel tests apart. */
export function uniqueName(label: string): string {
  return `t_${label}_${randomUUID().slice(0, 8)}`.replace(/[^A-Za-z0-9_]/g, '_');
}
