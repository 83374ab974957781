/** How the HTTP layer answers a thrown error: its status, the public body, and Retry-After on load shedding and retryable races. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ActorConflictError, MailboxFullError } from '../../src/actors/runtime/actor-host.ts';
import { AppError, ERRORS } from '../../src/infra/errors.ts';
import { Metrics } from '../../src/infra/metrics.ts';
import { StoreError } from '../../src/infra/store/store.ts';
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
    server.router.get('/store-down', async () => {
      throw new StoreError('unavailable', 'mongodb unavailable: connect ECONNREFUSED 10.0.0.7:27017');
    });
    server.router.get('/mailbox-full', async () => {
      throw new MailboxFullError('mailbox of chat/9876543210 is full');
    });
    server.router.get('/conflict', async () => {
      throw new ActorConflictError('chat/9876543210: this pod no longer owns its shard');
    });
    server.router.get('/bug', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'seq')");
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

  it('answers a store that is down with 503 STORE_UNAVAILABLE, keeping the driver error out of the body', async () => {
    const r = await get(port, '/store-down');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], undefined);
    assert.deepEqual(r.body, { status: 0, error: { code: 'STORE_UNAVAILABLE', message: ERRORS.STORE_UNAVAILABLE.message } });
  });

  it('answers a full chat mailbox as load shedding: 503 OVERLOADED with Retry-After: 1', async () => {
    const r = await get(port, '/mailbox-full');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.deepEqual(r.body, { status: 0, error: { code: 'OVERLOADED', message: 'Too many events are waiting for this chat; retry shortly' } });
  });

  it('answers an actor conflict with a retryable 503 ACTOR_CONFLICT', async () => {
    const r = await get(port, '/conflict');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.deepEqual(r.body, { status: 0, error: { code: 'ACTOR_CONFLICT', message: ERRORS.ACTOR_CONFLICT.message } });
  });

  it('answers an unexpected error with 500 INTERNAL and nothing of its message', async () => {
    const r = await get(port, '/bug');
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { status: 0, error: { code: 'INTERNAL', message: 'Internal error' } });
  });
});
