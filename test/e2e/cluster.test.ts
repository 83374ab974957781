/**
 * Many pods as separate processes against one Redis and one MongoDB-compatible
 * server: webhooks and agents on every pod at once, then a pod killed, a pod
 * paused past its lease, and a rolling restart — nothing acknowledged lost,
 * doubled or reordered.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { AgentClient } from '../support/agent-client.ts';
import { deliverWebhook } from '../support/chat-traffic.ts';
import { startPod, waitForShards, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, textWebhook } from '../support/webhooks.ts';

function clusterEnv() {
  return { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('cluster'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('cluster')}:` };
}

/** Sends `perChat` messages to each of `chats` customers (in order per chat), `parallel` chats at a time. */
async function drive(pods: () => Pod[], customers: string[], perChat: number, tag: string, parallel = 20, during?: (sent: number) => Promise<void> | void): Promise<number> {
  let sent = 0;
  let next = 0;
  const worker = async () => {
    for (let c = next++; c < customers.length; c = next++) {
      for (let i = 0; i < perChat; i++) {
        await deliverWebhook(pods, c + i, textWebhook(`91${customers[c]}`, `${tag} ${i}`, { id: `wamid.${tag}.${customers[c]}.${i}` }));
        sent++;
        await during?.(sent);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return sent;
}

/** Every customer's stored messages with `tag`, in seq order, must be exactly `${tag} 0..n-1`. */
async function assertStoredOnceInOrder(store: MongoStore, customers: string[], perChat: number, tag: string): Promise<void> {
  for (const customer of customers) {
    const chat = await store.collection('chats').findOne({ customer });
    assert.ok(chat, `chat of ${customer}`);
    const texts = (await store.collection('messages').find({ chat_id: String(chat._id), message: { $regex: `^${tag} ` } }, { sort: { seq: 1 } })).map((m) => m.message);
    assert.deepEqual(texts, Array.from({ length: perChat }, (_, i) => `${tag} ${i}`), `messages of ${customer}`);
  }
}

const numbers = (base: number, n: number) => Array.from({ length: n }, (_, i) => String(base + i));

describe('three pods', () => {
  const pods: Pod[] = [];
  const agents: AgentClient[] = [];
  let store: MongoStore;
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(pods.map((p) => p.stop()));
    await store?.close();
  });

  it('share the work: every message stored once in order, every push on every pod, every reply sent once', async () => {
    const env = clusterEnv();
    pods.push(...(await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((id) => startPod(id, env)))));
    const owned = await waitForShards(pods);
    console.log(`shards per pod: ${owned.join(' / ')}`);
    store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
    for (const [i, pod] of pods.entries()) agents.push(await AgentClient.connect(pod.url, `agent-${i}`));
    // Busy: no chat is assigned to them, so the only room_update pushes counted below are the messages' own (an assignment pushes one too).
    for (const agent of agents) assert.equal((await agent.request('set_availability', { status: 'busy' })).data?.status, 'busy');

    const customers = numbers(9700000000, 200);
    const sent = await drive(() => pods, customers, 10, 'in');
    assert.equal(sent, 2000);
    await eventually(async () => (await store.collection('messages').countDocuments({})) === 2000, 30_000, 'all 2,000 messages stored');
    await assertStoredOnceInOrder(store, customers, 10, 'in');

    // Agents reply from whichever pod they are on; the chat's owner may be another pod.
    const chats = await store.collection('chats').find({}, { projection: { _id: 1, customer: 1 } });
    for (const [i, chat] of chats.entries()) {
      const agent = agents[i % agents.length]!;
      const r = await agent.request('send_message', { chat_id: chat._id, message: `reply to ${chat.customer}` }, `reply-${String(chat._id)}`);
      assert.equal(r.data?.message?.type, 'Agent', JSON.stringify(r.error));
      if (i % 40 === 39) await new Promise((res) => setTimeout(res, 1000)); // stay under each connection's frame rate
    }
    const outbox = await store.collection('outbox').find({});
    assert.equal(outbox.length, 200, 'one outbound record per reply');
    assert.equal(new Set(outbox.map((o) => o.chat_id)).size, 200);

    // Each inbound message and each reply pushed a room_update_customer to the dashboard room of every pod.
    for (const agent of agents) {
      await eventually(async () => agent.pushes.filter((f) => f.event === 'room_update_customer').length >= 2200, 20_000, `pushes at ${agent.ws.url.split('?')[0]}`);
      assert.equal(agent.pushes.filter((f) => f.event === 'room_update_customer').length, 2200);
    }
  });
});

describe('two pods', () => {
  const pods: Pod[] = [];
  const agents: AgentClient[] = [];
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(pods.map((p) => p.stop()));
  });

  it("tell every dashboard on every pod of a status change, with the counts and the chat's real status", async () => {
    const env = clusterEnv();
    pods.push(...(await Promise.all(['pod-x', 'pod-y'].map((id) => startPod(id, env)))));
    await waitForShards(pods);
    const [onX, onY] = [await AgentClient.connect(pods[0]!.url, 'agent-x'), await AgentClient.connect(pods[1]!.url, 'agent-y')];
    agents.push(onX, onY);
    await deliverWebhook(() => pods, 0, textWebhook('919760000001', 'please call me'));
    const opened = await onY.waitForPush((f) => f.event === 'room_update_customer' && f.data.customer === '9760000001', 10_000);
    assert.equal(opened.data.status, 'active');

    // Neither agent is in the chat's room; the resolve is asked on pod x, the chat may live on either pod.
    const resolved = await onX.request('update_chat_status', { customer_number: '9760000001', status: 'resolved' });
    assert.equal(resolved.data?.chat?.status, 'resolved', JSON.stringify(resolved.error));
    for (const agent of [onX, onY]) {
      const pushed = await agent.waitForPush((f) => f.event === 'chat_status_updated' && f.data.customer === '9760000001', 10_000);
      assert.deepEqual([pushed.data.status, pushed.data.status_updated_by], ['resolved', 'agent-x']);
      await agent.waitForPush((f) => f.event === 'dashboard_stats' && f.data.resolved === 1 && f.data.active === 0, 10_000);
    }
    // An agent's note on the resolved chat reaches the other pod's list as resolved.
    const note = await onY.request('send_message', { chat_id: resolved.data.chat.chat_id, message: 'closing note' });
    assert.equal(note.data?.message?.type, 'Agent', JSON.stringify(note.error));
    const update = await onX.waitForPush((f) => f.event === 'room_update_customer' && f.data.last_message === 'closing note', 10_000);
    assert.equal(update.data.status, 'resolved');

    // Shown on another pod than the chat's owner or the webhook's: still marked read for that agent.
    const chatId = resolved.data.chat.chat_id as string;
    await onY.request('join_chat', { chat_id: chatId });
    await deliverWebhook(() => pods, 0, textWebhook('919760000001', 'one more thing'));
    await onY.waitForPush((f) => f.event === 'new_message' && f.data.message === 'one more thing', 10_000);
    const unseen = async (a: AgentClient) => (await a.request('fetch_all_chats', { search: '9760000001' })).data.chats[0].unseen_count as number;
    await eventually(async () => (await unseen(onY)) === 0, 10_000, 'read by the agent with the chat open');
    assert.equal(await unseen(onX), 3, 'agent-x never opened it: two customer messages and agent-y\'s note');
  });
});

describe('pods failing under load', () => {
  const pods: Pod[] = [];
  let store: MongoStore;
  after(async () => {
    await Promise.all(pods.map((p) => p.stop().catch(() => null)));
    await store?.close();
  });

  it('loses and doubles nothing when one pod is killed and another paused past its lease', async () => {
    const env = clusterEnv();
    pods.push(...(await Promise.all(['pod-1', 'pod-2', 'pod-3'].map((id) => startPod(id, env)))));
    await waitForShards(pods);
    store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
    const live = () => pods.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null && !paused.has(p.id));
    const paused = new Set<string>();
    const customers = numbers(9710000000, 60);
    let killedAt = 0;
    let chaos: Promise<void> | undefined;
    let takeoverMs = -1;
    const kv = await RedisKv.connect({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX });
    const owners = () => kv.getMany(Array.from({ length: 64 }, (_, i) => `shard:${i}:owner`));
    /** Polls Redis until every shard the dead pod held has another owner. */
    const watchTakeover = async (dead: string, held: number[]) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        const now = await owners();
        if (held.every((s) => now[s] && now[s] !== dead)) return void (takeoverMs = Date.now() - killedAt);
      }
    };
    let takeover: Promise<void> | undefined;

    const sent = await drive(live, customers, 15, 'chaos', 12, (n) => {
      if (n !== 200) return;
      chaos = (async () => {
        const held = (await owners()).flatMap((o, s) => (o === pods[0]!.id ? [s] : []));
        killedAt = Date.now();
        pods[0]!.proc.kill('SIGKILL'); // mid-stream, no goodbye
        takeover = watchTakeover(pods[0]!.id, held);
        pods[1]!.proc.kill('SIGSTOP');
        paused.add(pods[1]!.id);
        await new Promise((r) => setTimeout(r, 10_000)); // past the 6 s lease
        pods[1]!.proc.kill('SIGCONT');
        paused.delete(pods[1]!.id);
      })();
    });
    await chaos;
    await takeover;
    await kv.close();
    assert.equal(sent, 900);
    console.log(`takeover: the killed pod's shards had new owners ${takeoverMs} ms after SIGKILL (lease 6 s, heartbeat 1 s)`);
    assert.ok(takeoverMs >= 0 && takeoverMs < 10_000, `takeover took ${takeoverMs} ms`);

    const survivors = [pods[1]!, pods[2]!];
    const owned = await waitForShards(survivors, 64, 20_000);
    console.log(`rebalanced after the kill and the pause: ${owned.join(' / ')} shards`);
    await eventually(async () => (await store.collection('messages').countDocuments({})) === 900, 30_000, 'all acknowledged messages stored');
    await assertStoredOnceInOrder(store, customers, 15, 'chaos');
    // An item is marked applied once its event's effects ran (after its message is stored): wait for the marks, bounded.
    await eventually(async () => (await store!.collection('inbox').countDocuments({ state: { $ne: 'applied' } })) === 0, 15_000, 'nothing left unapplied');
  });

  it('loses, doubles and reorders nothing through a rolling restart under load', async () => {
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('rolling'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('rolling')}:` };
    const ring: Pod[] = await Promise.all(['r-1', 'r-2', 'r-3'].map((id) => startPod(id, env)));
    pods.push(...ring);
    await waitForShards(ring);
    const rolling = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
    const live = () => ring.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
    const customers = numbers(9720000000, 40);
    let restarts: Promise<void> | undefined;
    const sent = await drive(live, customers, 15, 'roll', 10, (n) => {
      if (n !== 50) return;
      restarts = (async () => {
        for (let i = 0; i < 3; i++) {
          const old = ring[i]!;
          assert.equal(await old.stop(), 0, `${old.id} drained and exited 0:\n${old.output().slice(-3000)}`);
          const fresh = await startPod(`r-${i + 1}-new`, env);
          ring[i] = fresh;
          pods.push(fresh);
        }
      })();
    });
    await restarts;
    assert.equal(sent, 600);
    await eventually(async () => (await rolling.collection('messages').countDocuments({})) === 600, 30_000, 'all messages stored');
    // One order per chat across every handoff: each message once, in the order the webhooks were acknowledged.
    await assertStoredOnceInOrder(rolling, customers, 15, 'roll');
    await rolling.close();
  });
});
