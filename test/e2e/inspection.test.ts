/** Optional live inspection: actors report to a @statelyai/inspect WebSocket inspector. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { startTestApp } from '../support/app.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

describe('live inspection', () => {
  it('reports each actor, its events and its snapshots to XSTATE_INSPECT_URL', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const received: { type: string; sessionId?: string; definition?: string; snapshot?: { value?: unknown }; event?: { type?: string } }[] = [];
    server.on('connection', (socket) => socket.on('message', (m) => received.push(JSON.parse(m.toString()))));
    const app = await startTestApp({ XSTATE_INSPECT_URL: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      await postWebhook(app.url, '8000247247', textWebhook('919812300001', 'inspect me'));
      await eventually(async () => received.some((e) => e.type === '@xstate.snapshot'), 5000, 'a snapshot reached the inspector');
      const actor = received.find((e) => e.type === '@xstate.actor');
      assert.equal(actor?.sessionId, 'chat:Customer:9812300001');
      assert.match(actor?.definition ?? '', /"id":"chat"/);
      assert.ok(received.some((e) => e.type === '@xstate.event' && e.event?.type === 'CUSTOMER_MESSAGE'));
      assert.deepEqual(received.find((e) => e.type === '@xstate.snapshot')?.snapshot?.value, 'active');
    } finally {
      await app.stop();
      await new Promise((r) => server.close(r));
    }
  });
});
