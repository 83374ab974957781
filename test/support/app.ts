/** Starts the real server in this process on an ephemeral loopback port. */
import { Writable } from 'node:stream';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/infra/config.ts';
import { unwatchHttp, watchHttp } from './api-check.ts';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef';

export interface TestApp extends RunningApp {
  url: string;
  config: Config;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
  /** Responses this app sent that /api/openapi.json does not describe (stop() fails when there are any). */
  apiViolations: string[];
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
  const url = `http://127.0.0.1:${app.port}`;
  // Every response a test fetches from this app is checked against the OpenAPI document.
  const apiViolations = watchHttp(url);
  const stop = app.stop;
  const checkedStop = async (): Promise<void> => {
    await stop();
    unwatchHttp(url);
    const seen = apiViolations.splice(0);
    if (seen.length > 0) throw new Error(`responses not described by /api/openapi.json:\n${[...new Set(seen)].join('\n')}`);
  };
  return Object.assign(app, { url, config, logs, apiViolations, stop: checkedStop });
}
