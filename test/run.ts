/**
 * `npm test`: starts a private Redis and the MongoDB wire-protocol test server
 * (unless TEST_REDIS_URL / TEST_MONGO_URL point at running ones), runs every
 * `test/**\/*.test.ts` with Node's test runner, stops what it started, and
 * exits with the runner's status. Extra arguments are passed as file filters.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startMongoServer } from './support/mongo-server.ts';
import { startRedisServer } from './support/redis-server.ts';

const root = join(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'support' || name === 'mongo-server' ? [] : testFiles(p);
    return name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

const filters = process.argv.slice(2);
const files = testFiles(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

if (!process.env.TEST_MONGO_URL) {
  const build = spawnSync('bash', [join(root, 'test/mongo-server/build.sh')], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('building the MongoDB test server failed (needs Java 17 and Maven)');
    process.exit(1);
  }
}

const [redis, mongo] = await Promise.all([startRedisServer(), startMongoServer()]);
console.log(`test services: redis ${redis.url}, mongodb ${mongo.url}`);

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TEST_REDIS_URL: redis.url, TEST_MONGO_URL: mongo.url } },
  );
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});

await Promise.allSettled([redis.stop(), mongo.stop()]);
process.exit(code);
