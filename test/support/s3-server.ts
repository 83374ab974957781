/**
 * A private S3-compatible server for the S3 media driver's tests: `moto` in
 * server mode (PyPI `moto[server]`, installed by .ci/run) on a free loopback
 * port, killed with the test process. Set TEST_S3_URL to use a running one.
 * A machine without moto fails the suites that need it: nothing is skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports.ts';
import { waitForPort } from './redis-server.ts';

export interface S3ServerHandle {
  url: string;
  stop(): Promise<void>;
}

/** Any key works with moto; these keep the SDK from looking for real ones. */
export const TEST_S3_CREDENTIALS = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' };
export const TEST_S3_REGION = 'us-east-1';

/** `moto_server` from MOTO_SERVER, the repository's venv (.ci/run), or PATH. */
function motoCommand(): string {
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  const venv = join(import.meta.dirname, '../../.venv-moto/bin/moto_server');
  return existsSync(venv) ? venv : 'moto_server';
}

export async function startS3Server(): Promise<S3ServerHandle> {
  const external = process.env.TEST_S3_URL;
  if (external) return { url: external, stop: async () => {} };
  const port = await freePort();
  const command = motoCommand();
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' } });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new Error(`cannot start ${command} (pip install 'moto[server]'; .ci/run installs it): ${e.message}`))),
  );
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${command} exited (${code}) during start-up:\n${stderr}`))));
  await Promise.race([waitForPort(port, 30_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${stderr}`))), spawnError, exited]);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.off('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 3000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    },
  };
}

/** Creates `bucket` on the server at `url`. */
export async function createBucket(url: string, bucket: string): Promise<void> {
  const client = new S3Client({ endpoint: url, region: TEST_S3_REGION, forcePathStyle: true, credentials: TEST_S3_CREDENTIALS });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
