/** Owns `agent_availability`: each agent's online / busy / offline, as set in the console (or by the server after 60 s without a socket). */
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import type { Collection, DocumentStore } from '../../infra/store/store.ts';
import { DASHBOARD_ROOM, type RoomPublisher } from '../runtime/room-publisher.ts';

const AVAILABILITY = 'agent_availability';
export const AVAILABILITY_STATUSES = ['online', 'busy', 'offline'] as const;
export type Availability = (typeof AVAILABILITY_STATUSES)[number];

/** `inbox:alive:{agent}`: present while the agent has an open socket on some pod, or had one less than `offlineAfterMs` ago. */
const aliveKey = (agent: string) => `inbox:alive:${agent}`;

export interface AgentPresence {
  username: string;
  status: Availability;
  /** An open socket on some pod (or one closed less than the offline delay ago). */
  connected: boolean;
}

export interface AvailabilityOptions {
  store: DocumentStore;
  kv: KeyValueStore;
  rooms: RoomPublisher;
  log: Logger;
  /** No open socket on any pod for this long: offline (60 s). */
  offlineAfterMs: number;
  /** Told when an agent may now take chats (set online, or came back). */
  onAvailable?: (agent: string) => void;
  now?: () => number;
}

/**
 * Agent availability across pods. The status an agent sets is stored in
 * MongoDB (every pod reads the same); whether it has a socket anywhere is a
 * key in Redis each pod refreshes for its own sockets and lets expire
 * `offlineAfterMs` after the last one closed. An exclusive sweep turns an
 * online or busy agent without that key offline (remembering what it was, so
 * the agent's next socket restores it) and tells every console.
 */
export class AgentAvailability {
  private readonly docs: Collection;
  /** Open sockets on this pod, per agent. */
  private readonly local = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: AvailabilityOptions) {
    this.docs = opts.store.collection(AVAILABILITY);
    this.now = opts.now ?? Date.now;
  }

  /** The agent sets its status (or the server does: `auto`, with the status it replaced). */
  async set(agent: string, status: Availability, auto?: { previous: Availability }): Promise<void> {
    const at = new Date(this.now());
    await this.docs.updateOne({ _id: agent }, { $set: { status, updated_at: at, auto: auto ? auto.previous : null } }, { upsert: true });
    this.announce(agent, status, at);
  }

  private announce(agent: string, status: Availability, at: Date): void {
    this.opts.rooms.publish(DASHBOARD_ROOM, 'agent_availability', { agent, status, at: at.toISOString() });
    if (status === 'online') this.opts.onAvailable?.(agent);
  }

  /** Whether `agent` ever connected or set a status. */
  async known(agent: string): Promise<boolean> {
    return (await this.docs.findOne({ _id: agent }, { projection: { _id: 1 } })) !== null;
  }

  async statusOf(agent: string): Promise<Availability> {
    const doc = await this.docs.findOne({ _id: agent });
    return (doc?.status as Availability | undefined) ?? 'offline';
  }

  /** A socket of `agent` opened on this pod: alive at once; a status the server took away when it left comes back (the first socket ever: online). */
  async socketOpened(agent: string): Promise<void> {
    this.local.set(agent, (this.local.get(agent) ?? 0) + 1);
    await this.touch([agent]);
    // Each write is conditional: a status the agent sets meanwhile (the console's toggle, right after connecting) is never overwritten.
    const at = new Date(this.now());
    // An agent's first socket ever: online.
    const first = await this.docs.updateOne({ _id: agent }, { $setOnInsert: { status: 'online', updated_at: at, auto: null } }, { upsert: true });
    if (first.upsertedId !== undefined) return this.announce(agent, 'online', at);
    const doc = await this.docs.findOne({ _id: agent });
    const previous = doc?.auto;
    if (doc?.status !== 'offline' || typeof previous !== 'string' || previous === 'offline') return;
    const restored = await this.docs.updateOne({ _id: agent, status: 'offline', auto: previous }, { $set: { status: previous, updated_at: at, auto: null } });
    if (restored.matched === 1) this.announce(agent, previous as Availability, at);
  }

  /** A socket of `agent` closed on this pod; the last one starts the offline delay from now. */
  async socketClosed(agent: string): Promise<void> {
    const left = (this.local.get(agent) ?? 1) - 1;
    if (left > 0) return void this.local.set(agent, left);
    this.local.delete(agent);
    await this.touch([agent]);
  }

  /** Refreshes the alive keys of this pod's agents (periodic, well inside the offline delay). */
  async heartbeat(): Promise<void> {
    await this.touch([...this.local.keys()]);
  }

  /** Online or busy agents with no socket anywhere for the offline delay become offline (exclusive job). */
  async sweep(stillHolds: () => Promise<boolean> = async () => true): Promise<string[]> {
    const present = await this.docs.find({ status: { $in: ['online', 'busy'] } }, { projection: { _id: 1, status: 1 }, limit: 10_000 });
    if (present.length === 0) return [];
    const alive = await this.opts.kv.getMany(present.map((d) => aliveKey(String(d._id))));
    const gone = present.filter((_, i) => alive[i] === null);
    if (gone.length === 0 || !(await stillHolds())) return [];
    for (const d of gone) await this.set(String(d._id), 'offline', { previous: d.status as Availability });
    this.opts.log.info({ agents: gone.map((d) => d._id) }, 'agents without a socket for the offline delay are offline');
    return gone.map((d) => String(d._id));
  }

  /** Every agent that ever set a status, with whether it is connected. */
  async all(): Promise<AgentPresence[]> {
    const docs = await this.docs.find({}, { sort: { _id: 1 }, limit: 10_000 });
    const alive = docs.length ? await this.opts.kv.getMany(docs.map((d) => aliveKey(String(d._id)))) : [];
    return docs.map((d, i) => ({ username: String(d._id), status: d.status as Availability, connected: alive[i] !== null }));
  }

  /** Of `agents` (all when absent), those who take chats now: online with a socket somewhere, sorted. */
  async available(agents?: readonly string[]): Promise<string[]> {
    const docs = await this.docs.find(agents ? { _id: { $in: [...agents] }, status: 'online' } : { status: 'online' }, { projection: { _id: 1 }, limit: 10_000 });
    if (docs.length === 0) return [];
    const alive = await this.opts.kv.getMany(docs.map((d) => aliveKey(String(d._id))));
    return docs.filter((_, i) => alive[i] !== null).map((d) => String(d._id)).sort();
  }

  private async touch(agents: readonly string[]): Promise<void> {
    await Promise.all(agents.map((a) => this.opts.kv.set(aliveKey(a), '1', { ttlMs: this.opts.offlineAfterMs })));
  }
}
