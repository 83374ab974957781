/** Starts the real server in this process on an ephemeral loopback port. */
import { Writable } from 'node:stream';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/infra/config.ts';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef';

export interface TestApp extends RunningApp {
  url: string;
  config: Config;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', AGENT_JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test', COMMUNICATION_MASTER_URL: '', ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = await startApp(config, sink);
  return Object.assign(app, { url: `http://127.0.0.1:${app.port}`, config, logs });
}
