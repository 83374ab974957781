import { join } from 'node:path';
import type { Config } from '../infra/config.ts';
import type { KeyValueStore } from '../infra/kv/kv.ts';
import { RedisKv } from '../infra/kv/kv.redis.ts';
import type { Logger } from '../infra/logger.ts';
import type { DocumentStore } from '../infra/store/store.ts';
import { classify, type DiscountInbound } from '../domain/discount-catalogue.ts';
import { chatEffects } from './chat.effects.ts';
import { chatKind } from './chat.kind.ts';
import { ChatService, type ActorDispatch, type ActorRouter } from './chat-service.ts';
import { shardOf, type ShardDirectory } from './cluster/directory.ts';
import { LocalDirectory } from './cluster/directory.local.ts';
import { RedisDirectory } from './cluster/directory.redis.ts';
import { StreamRouter } from './cluster/router.ts';
import type { DashboardCounters } from './dashboard-counters.ts';
import { DiscountRoutes } from './discount-routes.ts';
import { discountEffects } from './discount.effects.ts';
import { discountKind } from './discount.kind.ts';
import { ActorHost } from './host.ts';
import { webSocketInspection, type HostObserver } from './inspection.ts';
import { Inbox, type InboxItem } from './inbox.ts';
import type { OutboundSender } from './outbound.ts';
import type { RoomPublisher } from './room-publisher.ts';

export const DISCOUNT_SEED = join(import.meta.dirname, '../../data/discount-routes.seed.json');

export interface RuntimeDeps {
  config: Config;
  log: Logger;
  store: DocumentStore;
  /** Where the inbox lives: the store itself, or (MongoDB) the same database on its own small pool, so acknowledgements never queue behind the actors' saves. */
  inboxStore?: DocumentStore;
  kv: KeyValueStore;
  rooms: RoomPublisher;
  counters: DashboardCounters;
  outbound: OutboundSender;
}

/**
 * The actor runtime: the host with its two kinds (chat, discount), shard
 * ownership (every shard local without Redis; leases in Redis otherwise), the
 * router that delivers events to the owning pod, the durable inbox, and the
 * chat service the transports call.
 */
export class Runtime {
  readonly host: ActorHost;
  readonly directory: ShardDirectory;
  readonly inbox: Inbox;
  readonly chats: ChatService;
  readonly discountRoutes: DiscountRoutes;
  readonly router: StreamRouter | undefined;
  readonly route: ActorRouter;
  readonly dispatch: ActorDispatch;
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(deps: RuntimeDeps, cluster: { directory: ShardDirectory; redis?: { commands: import('ioredis').Redis; blocking: import('ioredis').Redis; kv: RedisKv } }) {
    const { config, log, store } = deps;
    this.directory = cluster.directory;
    this.discountRoutes = new DiscountRoutes(store, log);
    const route: ActorRouter = (kind, key, event) => this.route(kind, key, event);
    const shards = this.directory.shards;
    this.host = new ActorHost(
      [
        chatKind(store, chatEffects({ store, rooms: deps.rooms, counters: deps.counters, outbound: deps.outbound, log })),
        discountKind(store, { idleTimeoutMs: config.DISCOUNT_IDLE_TIMEOUT_MS, execute: discountEffects({ store, routes: this.discountRoutes, outbound: deps.outbound, route }) }),
      ],
      {
        log,
        idleMs: config.ACTOR_IDLE_MS,
        effectAttempts: config.EFFECT_ATTEMPTS,
        effectBackoffMs: config.EFFECT_BACKOFF_MS,
        fence: (kind, key) => this.directory.fence(shardOf(kind, key, shards)),
        ...(config.XSTATE_INSPECT_URL ? { observer: this.track(webSocketInspection(config.XSTATE_INSPECT_URL, log)) } : {}),
      },
    );
    if (cluster.redis) {
      const { commands, blocking, kv } = cluster.redis;
      this.router = new StreamRouter({ host: this.host, directory: this.directory, kv, redis: commands, blocking, prefix: kv.prefix, pod: config.POD_ID, log });
      this.route = this.router.route;
      this.dispatch = this.router.dispatch;
      this.closers.push(async () => void commands.disconnect());
    } else {
      // One pod: the mailbox is the order, and taking a place in it is synchronous.
      this.dispatch = (kind, key, event) => ({ queued: Promise.resolve(), done: this.host.send(kind, key, event) });
      this.route = (kind, key, event) => this.host.send(kind, key, event);
    }
    // A shard that moved away: its resident actors are stale from now on.
    this.directory.onChange(({ shard, owned }) => {
      if (!owned) this.host.forgetWhere((kind, key) => shardOf(kind, key, shards) === shard);
    });
    this.inbox = new Inbox(deps.inboxStore ?? store, (item) => this.deliver(item, config.DISCOUNT_CAMPAIGN_ROUTE), log);
    this.chats = new ChatService(store, this.inbox, route, config.MAX_UNAPPLIED_EVENTS);
  }

  static async create(deps: RuntimeDeps): Promise<Runtime> {
    if (!(deps.kv instanceof RedisKv)) return new Runtime(deps, { directory: new LocalDirectory(deps.config.POD_ID) });
    const kv = deps.kv;
    const commands = await kv.connection();
    const blocking = await kv.connection({ commandTimeoutMs: 0 });
    const directory = new RedisDirectory({ redis: commands, prefix: kv.prefix, pod: deps.config.POD_ID, log: deps.log });
    return new Runtime(deps, { directory, redis: { commands, blocking, kv } });
  }

  /** Seeds the discount catalogue, takes shards, starts routing. */
  async start(): Promise<void> {
    await this.discountRoutes.seed(DISCOUNT_SEED);
    if (this.directory instanceof RedisDirectory) this.directory.setDrain((shard) => this.drainShard(shard));
    await this.directory.start();
    await this.router?.start();
  }

  /** Hands every shard off (draining its actors first), stops routing, closes connections. */
  async stop(): Promise<void> {
    await this.directory.stop((shard) => this.drainShard(shard));
    await this.router?.stop();
    await this.host.stop();
    await this.inbox.flush();
    for (const close of this.closers) await close();
  }

  private track(observer: HostObserver): HostObserver {
    this.closers.push(async () => observer.stop());
    return observer;
  }

  private async drainShard(shard: number): Promise<void> {
    await this.router?.release(shard);
    await this.host.passivateWhere((kind, key) => shardOf(kind, key, this.directory.shards) === shard);
  }

  /** Inbox items go to their actor; discount-channel messages are first classified against the route catalogue. */
  private deliver(item: InboxItem, campaignRoute: string): { queued: Promise<void>; done: Promise<unknown> } {
    if (item.kind !== 'discount') return this.dispatch(item.kind, item.key, item.event);
    const handed = this.discountRoutes.all().then((routes) => {
      const event = classify(item.event as unknown as DiscountInbound, routes, campaignRoute);
      return event ? this.dispatch('discount', item.key, event) : null;
    });
    return { queued: handed.then((h) => h?.queued), done: handed.then((h) => h?.done) };
  }
}
