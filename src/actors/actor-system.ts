import { join } from 'node:path';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/logger.ts';
import type { DocumentStore } from '../infra/store/store.ts';
import type { KeyValueStore } from '../infra/kv/kv.ts';
import { chatEffects } from './chat/chat.effects.ts';
import { chatKind } from './chat/chat.kind.ts';
import { ChatService } from './chat/chat-service.ts';
import { shardOf, type ShardOwnership } from './cluster/ownership.ts';
import type { ActorDispatcher, AskActor } from './cluster/dispatch.ts';
import type { DashboardCounters } from './chat/dashboard-counters.ts';
import { CatalogueStore } from './discount/catalogue-store.ts';
import { discountEffects } from './discount/discount.effects.ts';
import { discountKind } from './discount/discount.kind.ts';
import { ActorHost } from './runtime/actor-host.ts';
import { webSocketInspection, type HostObserver } from './runtime/inspection.ts';
import { Inbox } from './inbound/inbox.ts';
import { deliverInbound } from './inbound/inbound-events.ts';
import type { OutboundSender } from './outbound/outbound.ts';
import type { RoomPublisher } from './runtime/room-publisher.ts';
import { ConversationLog } from './desk/conversation-log.ts';
import { InboxCommands } from './chat/inbox-commands.ts';
import { TeamsStore } from './inbox/teams-store.ts';
import { AgentAvailability } from './inbox/availability.ts';
import { Assigner } from './inbox/assigner.ts';
import { MemoryKv } from '../infra/kv/kv.memory.ts';

export const DISCOUNT_SEED = join(import.meta.dirname, '../../data/discount-routes.seed.json');

export interface ActorSystemDeps {
  config: Config;
  log: Logger;
  store: DocumentStore;
  /** Where the inbox lives: the store itself, or (MongoDB) the same database on its own small pool, so acknowledgements never queue behind the actors' saves. */
  inboxStore?: DocumentStore;
  rooms: RoomPublisher;
  counters: DashboardCounters;
  /** Where the discount catalogue's version lives, so an admin's edit reaches every pod's next offer. */
  kv?: KeyValueStore;
  outbound: OutboundSender;
  /** Which shards this pod owns (chosen by the composition root: in-process, or leases in Redis). */
  ownership: ShardOwnership;
  /** Told the age of each customer message as it reaches agents (the message→agent latency metric). */
  onCustomerMessagePushed?: (seconds: number) => void;
  /** How events reach their actor's owner, given this pod's host (in-process, or Redis streams). */
  dispatcher: (host: ActorHost) => ActorDispatcher;
}

/**
 * Wiring only: the host with its two kinds (chat, discount), the dispatcher
 * that delivers events to the owning pod, the durable inbox with the one
 * inbound path, and the chat service the transports call. Which drivers
 * (in-process or Redis) is decided by `src/app.ts`.
 */
export class ActorSystem {
  readonly host: ActorHost;
  readonly ownership: ShardOwnership;
  readonly dispatcher: ActorDispatcher;
  readonly inbox: Inbox;
  readonly chats: ChatService;
  readonly catalogue: CatalogueStore;
  /** Team inbox (#18): teams and the cap, agent availability, the round-robin assigner, the agents' inbox commands. */
  readonly teams: TeamsStore;
  readonly availability: AgentAvailability;
  readonly assigner: Assigner;
  readonly inboxCommands: InboxCommands;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(deps: ActorSystemDeps) {
    const { config, log, store, ownership } = deps;
    this.ownership = ownership;
    this.catalogue = new CatalogueStore(store, log, deps.kv);
    const ask: AskActor = (kind, key, event) => this.dispatcher.ask(kind, key, event);
    const shards = ownership.shards;
    const kv = deps.kv ?? new MemoryKv();
    this.teams = new TeamsStore(store, config.INBOX_AGENT_CAP);
    // Kicked before the assigner exists only in theory (effects run after start): late-bound.
    const kick = () => this.assigner.kick();
    this.availability = new AgentAvailability({ store, kv, rooms: deps.rooms, log, offlineAfterMs: config.AGENT_OFFLINE_AFTER_MS, onAvailable: kick });
    const conversations = new ConversationLog(store);
    this.host = new ActorHost(
      [
        chatKind(store, chatEffects({ store, rooms: deps.rooms, counters: deps.counters, outbound: deps.outbound, log, onCustomerMessagePushed: deps.onCustomerMessagePushed, conversations, assigner: { kick } })),
        discountKind(store, { idleTimeoutMs: config.DISCOUNT_IDLE_TIMEOUT_MS, execute: discountEffects({ store, catalogue: this.catalogue, outbound: deps.outbound, ask }) }),
      ],
      {
        log,
        idleMs: config.ACTOR_IDLE_MS,
        effectAttempts: config.EFFECT_ATTEMPTS,
        effectBackoffMs: config.EFFECT_BACKOFF_MS,
        fence: (kind, key) => ownership.fence(shardOf(kind, key, shards)),
        ...(config.XSTATE_INSPECT_URL ? { observer: this.track(webSocketInspection(config.XSTATE_INSPECT_URL, log)) } : {}),
      },
    );
    this.dispatcher = deps.dispatcher(this.host);
    // A shard that moved away: its resident actors are stale from now on.
    ownership.onChange(({ shard, owned }) => {
      if (!owned) this.host.forgetWhere((kind, key) => shardOf(kind, key, shards) === shard);
    });
    const deliver = deliverInbound({ dispatch: (kind, key, event) => this.dispatcher.dispatch(kind, key, event), routes: () => this.catalogue.all(), campaignRoute: config.DISCOUNT_CAMPAIGN_ROUTE });
    this.inbox = new Inbox(deps.inboxStore ?? store, deliver, log);
    this.chats = new ChatService(store, this.inbox, ask, config.MAX_UNAPPLIED_EVENTS);
    this.inboxCommands = new InboxCommands(store, this.chats, ask);
    this.assigner = new Assigner({ teams: this.teams, availability: this.availability, kv, ports: this.inboxCommands.ports(), pod: config.POD_ID, log });
  }

  /** Seeds the discount catalogue, takes shards, starts dispatching. */
  async start(): Promise<void> {
    await this.catalogue.seed(DISCOUNT_SEED);
    await this.ownership.start((shard) => this.drainShard(shard));
    await this.dispatcher.start();
  }

  /** Hands every shard off (draining its actors first), stops dispatching, flushes the inbox. */
  async stop(): Promise<void> {
    await this.assigner.stop();
    await this.ownership.stop((shard) => this.drainShard(shard));
    await this.dispatcher.stop();
    await this.host.stop();
    await this.inbox.flush();
    for (const close of this.closers) await close();
  }

  private track(observer: HostObserver): HostObserver {
    this.closers.push(async () => observer.stop());
    return observer;
  }

  private async drainShard(shard: number): Promise<void> {
    await this.dispatcher.release(shard);
    await this.host.passivateWhere((kind, key) => shardOf(kind, key, this.ownership.shards) === shard);
  }
}
