/**
 * Two pods as separate processes on one Redis and one MongoDB-compatible
 * server: the same chats' messages arrive at both pods at once while both
 * pods' assigners run their passes, and each chat is assigned exactly once,
 * round robin across the agents of both pods.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { AgentClient } from '../support/agent-client.ts';
import { startPod, waitForShards, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, textWebhook } from '../support/webhooks.ts';

const CHANNEL = '8000247247';
const CHATS = 30;

describe('two pods: assignment', () => {
  const pods: Pod[] = [];
  const agents: AgentClient[] = [];
  let store: MongoStore | undefined;
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(pods.map((p) => p.stop()));
    await store?.close();
  });

  it('is decided once per chat when the same chat\'s events arrive at both pods at once', async () => {
    const db = uniqueName('inboxpods');
    // Both pods run an assignment pass every 200 ms besides the passes the chats ask for: passes meet all the time.
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${db}:`, INBOX_ASSIGN_SWEEP_MS: '200', INBOX_AGENT_CAP: '100' };
    pods.push(...(await Promise.all(['inbox-a', 'inbox-b'].map((id) => startPod(id, env)))));
    await waitForShards(pods);
    store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
    const [a, b] = pods as [Pod, Pod];
    agents.push(await AgentClient.connect(a.url, 'pods-1'), await AgentClient.connect(b.url, 'pods-2'), await AgentClient.connect(a.url, 'pods-3'));
    const watcher = await AgentClient.connect(b.url, 'pods-watch');
    agents.push(watcher);
    await watcher.request('set_availability', { status: 'offline' }); // it watches; it takes no chats
    await eventually(async () => {
      const listed = (await watcher.request('fetch_agents', {})).data.agents as { username: string; status: string; connected: boolean }[];
      return listed.filter((x) => x.username !== 'pods-watch' && x.status === 'online' && x.connected).length === 3;
    }, 10_000, 'three agents online');

    const customers = Array.from({ length: CHATS }, (_, i) => String(9_712_000_000 + i));
    const post = (pod: Pod, customer: string, text: string) =>
      fetch(`${pod.url}/api/chats/whatsapp_chat/${CHANNEL}`, { method: 'POST', body: JSON.stringify(textWebhook(`91${customer}`, text, { id: `wamid.pods.${customer}.${text}` })) }).then((r) => r.status);
    // Every chat: its first two messages, one to each pod, at the same moment; all chats at once.
    const statuses = await Promise.all(customers.flatMap((c) => [post(a, c, 'first'), post(b, c, 'second')]));
    assert.deepEqual([...new Set(statuses)], [200]);

    const chats = await eventually(async () => {
      const docs = await store!.collection('chats').find({ customer: { $in: customers } });
      return docs.length === CHATS && docs.every((d) => d.assignee) ? docs : undefined;
    }, 30_000, 'every chat assigned');
    await new Promise((r) => setTimeout(r, 1500)); // more passes on both pods: nothing may change now

    for (const chat of chats) {
      const doc = await store.collection('chats').findOne({ _id: chat._id });
      const assigns: { event: string }[] = ((doc?.actor as { history?: { event: string }[] } | undefined)?.history ?? []).filter((h) => h.event === 'ASSIGN');
      assert.equal(assigns.length, 1, `chat ${String(chat.customer)}: one ASSIGN transition, got ${assigns.length}`);
      assert.equal(doc?.assignee, chat.assignee, 'the assignee did not change afterwards');
      assert.equal(doc?.last_seq, 2, 'both messages stored once');
      const pushes = watcher.pushes.filter((p) => p.event === 'chat_assigned' && p.data.chat_id === String(chat._id));
      assert.equal(pushes.length, 1, `chat ${String(chat.customer)}: one chat_assigned push`);
      assert.equal(pushes[0]!.data.by, 'auto');
    }
    const perAgent = new Map<string, number>();
    for (const c of chats) perAgent.set(String(c.assignee), (perAgent.get(String(c.assignee)) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...perAgent].sort()), { 'pods-1': 10, 'pods-2': 10, 'pods-3': 10 }, 'round robin across both pods\' agents');
    const logged = await store.collection('conversations').find({ chat_id: { $in: chats.map((c) => String(c._id)) } });
    assert.equal(logged.filter((c) => c.assignee).length, CHATS, 'the conversation log has each assignment');
  });
});
