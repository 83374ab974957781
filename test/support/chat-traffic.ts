/**
 * Customer traffic for the many-pods tests and the handoff stress script:
 * webhooks posted like Pinbot posts them (to any pod, again to another when
 * one fails to answer 200), one message at a time per chat, and the check of
 * what MongoDB stored against what was acknowledged (lost, doubled, reordered).
 */
import type { MongoStore } from '../../src/infra/store/store.mongo.ts';
import type { Pod } from './pods.ts';
import { textWebhook } from './webhooks.ts';

export const CUSTOMER_CHANNEL = '8000247247';

/** Posts to any pod, and again to another one when a pod fails to answer 200 in time; the id of the pod that answered 200. */
export async function deliverWebhook(pods: () => Pod[], start: number, body: object, attempts = 12): Promise<string> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const live = pods();
    const pod = live.length ? live[(start + attempt) % live.length]! : undefined;
    if (pod) {
      try {
        const res = await fetch(`${pod.url}/api/chats/whatsapp_chat/${CUSTOMER_CHANNEL}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return pod.id;
      } catch {
        // connection refused (killed) or timed out (paused): Pinbot retries elsewhere
      }
    }
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
  throw new Error(`no pod acknowledged the webhook after ${attempts} attempts`);
}

/** The text of message `i` of a chat in a run tagged `tag`. */
export const messageText = (tag: string, i: number): string => `${tag} ${i}`;

export interface TrafficOptions {
  pods: () => Pod[];
  customers: readonly string[];
  tag: string;
  /** Chats sent to at once (each worker owns its chats and sends their messages one at a time, in order). */
  workers: number;
  /** Messages per chat at least; more while `more()` says so, up to `maxPerChat`. */
  perChat: number;
  maxPerChat?: number;
  more?: () => boolean;
  /** Called after every acknowledged message with the running total. */
  onSent?: (sent: number) => Promise<void> | void;
}

/**
 * Sends messages `tag 0, tag 1, …` to every customer, each one acknowledged
 * (200) before the chat's next is posted: that is the order the chat must
 * show. Returns how many were acknowledged per customer.
 */
export async function sendTraffic(o: TrafficOptions): Promise<Map<string, number>> {
  const acked = new Map(o.customers.map((c) => [c, 0]));
  const max = Math.max(o.perChat, o.maxPerChat ?? o.perChat);
  let sent = 0;
  const worker = async (w: number) => {
    const mine = o.customers.filter((_, i) => i % o.workers === w);
    for (let i = 0; i < max && (i < o.perChat || o.more?.()); i++) {
      for (const [j, customer] of mine.entries()) {
        await deliverWebhook(o.pods, w + i + j, textWebhook(`91${customer}`, messageText(o.tag, i), { id: `wamid.${o.tag}.${customer}.${i}` }));
        acked.set(customer, i + 1);
        sent++;
        await o.onSent?.(sent);
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return acked;
}

export interface StoredFigures {
  /** Messages acknowledged (200). */
  sent: number;
  /** Distinct acknowledged messages stored. */
  applied: number;
  /** Acknowledged and not stored. */
  lost: number;
  /** Stored more than once (extra copies). */
  doubled: number;
  /** Chats whose messages, in `seq` order, are not in the order they were acknowledged. */
  reordered: number;
  /** Per reordered chat: the customer and its texts in `seq` order (for a report). */
  reorderedChats: { customer: string; texts: string[] }[];
}

/** What MongoDB holds of `tag`'s acknowledged messages, chat by chat. */
export async function storedFigures(store: MongoStore, acked: ReadonlyMap<string, number>, tag: string): Promise<StoredFigures> {
  const f: StoredFigures = { sent: 0, applied: 0, lost: 0, doubled: 0, reordered: 0, reorderedChats: [] };
  for (const [customer, n] of acked) {
    f.sent += n;
    const chat = await store.collection('chats').findOne({ customer });
    const texts = chat
      ? (await store.collection('messages').find({ chat_id: String(chat._id), message: { $regex: `^${tag} ` } }, { sort: { seq: 1 } })).map((m) => String(m.message))
      : [];
    const expected = Array.from({ length: n }, (_, i) => messageText(tag, i));
    const stored = new Set(texts);
    const applied = expected.filter((t) => stored.has(t)).length;
    f.applied += applied;
    f.lost += n - applied;
    f.doubled += texts.length - stored.size;
    // Order: the stored texts of acknowledged messages, first copies only, must be 0, 1, 2, …
    const seen = new Set<string>();
    const firsts = texts.filter((t) => !seen.has(t) && seen.add(t) && expected.includes(t));
    if (firsts.some((t, i) => i > 0 && Number(t.slice(tag.length + 1)) < Number(firsts[i - 1]!.slice(tag.length + 1)))) {
      f.reordered++;
      f.reorderedChats.push({ customer, texts });
    }
  }
  return f;
}
