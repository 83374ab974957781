/** A pod killed between Pinbot receiving a message and the outbox recording the answer (a real process, SIGKILL). */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp } from '../support/app.ts';
import { startFakePinbot } from '../support/fake-pinbot.ts';
import { freePort } from '../support/ports.ts';
import { waitForPort } from '../support/redis-server.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

/** The product as its own process (`src/main.ts`), to be killed for real. */
async function startProcess(podId: string, env: Record<string, string>): Promise<{ url: string; proc: ChildProcess; exited: Promise<unknown> }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), POD_ID: podId, AGENT_JWT_SECRET: TEST_JWT_SECRET, COMMUNICATION_MASTER_URL: '', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await Promise.race([waitForPort(port, 30_000), exited.then((code) => Promise.reject(new Error(`the pod exited (${String(code)}) during start-up`)))]);
  return { url: `http://127.0.0.1:${port}`, proc, exited };
}

describe('outbox across a crash', () => {
  it('after a restart the send is uncertain, shown to agents, and never sent again', async () => {
    const fake = await startFakePinbot();
    // Pinbot takes the message but has not answered when the pod dies.
    fake.script({ status: 200, delayMs: 8000 });
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('crash'), PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2' };
    const store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
    const pod = await startProcess('crash-pod', env);
    try {
      await postWebhook(pod.url, '8000247247', textWebhook('919833300001', 'where is my cab?'));
      const chat = await eventually(() => store.collection('chats').findOne({ customer: '9833300001' }), 10_000, 'chat stored');
      const agent = await AgentClient.connect(pod.url, 'agent-c');
      const reply = await agent.request('send_message', { chat_id: chat._id, message: 'आपकी कैब रास्ते में है 🚕' });
      await fake.waitForRequests(1);
      assert.equal((await store.collection('outbox').findOne({ chat_id: chat._id }))?.state, 'sending', 'in flight when the pod dies');
      pod.proc.kill('SIGKILL');
      await pod.exited;
      await agent.close();

      const app = await startTestApp({ ...env, POD_ID: 'crash-pod' });
      try {
        const rec = await store.collection('outbox').findOne({ chat_id: chat._id });
        assert.equal(rec?.state, 'uncertain');
        assert.match((rec?.error as { message: string }).message, /may or may not have reached the customer/);
        const room = await AgentClient.connect(app.url, 'agent-c', { chatId: String(chat._id) });
        const history = await room.request('fetch_chats_by_user', { chat_id: chat._id });
        const shown = history.data.messages.find((m: { _id: string }) => m._id === reply.data.message._id);
        assert.equal(shown.outbound_status, 'uncertain');
        await room.close();
        await app.outbox.sweep();
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(fake.requests.length, 1, 'never re-sent');
        assert.equal((await store.collection('outbox').findOne({ chat_id: chat._id }))?.state, 'uncertain');
      } finally {
        await app.stop();
      }
    } finally {
      if (pod.proc.exitCode === null && pod.proc.signalCode === null) pod.proc.kill('SIGKILL');
      await store.close();
      await fake.close();
    }
  });
});
