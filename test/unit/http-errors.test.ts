/** How the HTTP layer answers a thrown AppError: its status, the public body, and Retry-After on load shedding. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AppError } from '../../src/infra/errors.ts';
import { Metrics } from '../../src/infra/metrics.ts';
import { Server } from '../../src/transport/server.ts';

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http errors', () => {
  const server = new Server({ log: pino({ level: 'silent' }), metrics: new Metrics('test'), corsOrigins: [] });
  let port = 0;
  before(async () => {
    server.router.get('/overloaded', async () => {
      throw new AppError('OVERLOADED');
    });
    server.router.get('/missing', async () => {
      throw new AppError('NOT_FOUND', 'No such thing');
    });
    port = await server.listen('127.0.0.1', 0);
  });
  after(() => server.stopAccepting());

  it('answers OVERLOADED with 503, its code and Retry-After: 1', async () => {
    const r = await get(port, '/overloaded');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.deepEqual(r.body, { status: 0, error: { code: 'OVERLOADED', message: 'Too many acknowledged events are waiting to be applied; retry shortly' } });
  });

  it('answers other errors with their status and no Retry-After', async () => {
    const r = await get(port, '/missing');
    assert.equal(r.status, 404);
    assert.equal(r.headers['retry-after'], undefined);
    assert.deepEqual(r.body, { status: 0, error: { code: 'NOT_FOUND', message: 'No such thing' } });
  });
});
