import type { Config } from './infra/config.ts';
import { redactUrl } from './infra/config.ts';
import { StartupError, connectWithRetry } from './infra/connect.ts';
import { signToken } from './infra/jwt.ts';
import type { KeyValueStore } from './infra/kv/kv.ts';
import { MemoryKv } from './infra/kv/kv.memory.ts';
import { RedisKv } from './infra/kv/kv.redis.ts';
import { createLogger, type Logger } from './infra/logger.ts';
import { Metrics } from './infra/metrics.ts';
import { MemoryStore } from './infra/store/store.memory.ts';
import { MongoStore } from './infra/store/store.mongo.ts';
import type { DocumentStore } from './infra/store/store.ts';
import { registerHealthRoutes, type ReadinessCheck } from './transport/health.routes.ts';
import { Server } from './transport/server.ts';
import { uwsIsNative } from './transport/uws.ts';
import { registerWebhookAdminRoutes } from './transport/webhook-admin.routes.ts';
import { registerWebhookRoutes } from './transport/webhook.routes.ts';
import { registerDashboardRoutes } from './transport/dashboard.routes.ts';
import { registerMachineRoutes } from './transport/machines.routes.ts';
import { registerDiscountRoutes } from './transport/discount.routes.ts';
import { registerDeskRoutes } from './transport/desk.routes.ts';
import { CannedResponses } from './actors/desk/canned-responses.ts';
import { LabelCatalogue } from './actors/desk/label-catalogue.ts';
import { WsHub } from './transport/ws-hub.ts';
import { HttpRateLimit } from './transport/http-rate-limit.ts';
import { agentEventHandler } from './transport/ws-events.ts';
import type { ActorHost } from './actors/runtime/actor-host.ts';
import { ActorSystem, type ActorSystemDeps } from './actors/actor-system.ts';
import { LocalDispatcher } from './actors/cluster/dispatch.local.ts';
import { StreamDispatcher } from './actors/cluster/dispatch.streams.ts';
import { LocalOwnership } from './actors/cluster/ownership.local.ts';
import { RedisOwnership } from './actors/cluster/ownership.redis.ts';
import { RedisFanout } from './actors/cluster/fanout.redis.ts';
import { ANNOUNCE_EVERY_MS } from './actors/cluster/room-interest.ts';
import { ChatQueries } from './actors/chat/chat.queries.ts';
import { CHAT_INDEXES, OBSOLETE_CHAT_INDEXES } from './actors/chat/chat-store.ts';
import { PRESENCE_INDEXES, PresenceStore } from './actors/chat/presence-store.ts';
import { USER_INDEXES, UsersStore } from './actors/chat/users-store.ts';
import { DashboardCounters } from './actors/chat/dashboard-counters.ts';
import { DISCOUNT_INDEXES } from './actors/discount/discount-store.ts';
import { createOutbound } from './actors/outbound/outbox-setup.ts';
import type { Outbox } from './actors/outbound/outbox.ts';
import type { MediaDownloads } from './actors/outbound/media-downloads.ts';
import type { MediaStorage } from './infra/media/media-storage.ts';
import { OUTBOX_INDEXES } from './actors/outbound/outbox-store.ts';
import { MEDIA_INDEXES } from './infra/media/media-legacy.ts';
import { openMediaStorage } from './infra/media/open-media-storage.ts';
import { MEDIA_JOB_INDEXES } from './actors/outbound/media-job-store.ts';
import { shardOf } from './actors/cluster/ownership.ts';
import { registerMediaRoutes } from './transport/media.routes.ts';
import { registerOutboundRoutes } from './transport/outbound.routes.ts';
import { registerAccountRoutes } from './transport/accounts.routes.ts';
import { AGENT_INDEXES, AgentsStore } from './actors/agents/agents-store.ts';
import { CONVERSATION_INDEXES, ConversationLog } from './actors/desk/conversation-log.ts';
import { ConversationReports } from './actors/desk/reports.ts';
import { registerReportRoutes } from './transport/reports.routes.ts';
import { AgentAccounts } from './actors/agents/agent-accounts.ts';
import { bootstrapAdmin } from './actors/agents/bootstrap-admin.ts';
import { LoginLimiter } from './actors/agents/login-limiter.ts';
import { AgentTokens } from './actors/agents/agent-tokens.ts';
import { AgentNotices } from './actors/agents/agent-notices.ts';
import { Authenticator } from './transport/auth.ts';
import { registerDocsRoutes } from './transport/docs.routes.ts';
import { loadConsole } from './transport/console-build.ts';
import { registerConsoleRoutes } from './transport/console.routes.ts';
import { registerConsoleChatRoutes } from './transport/console-chat.routes.ts';
import { INBOX_INDEXES, type Inbox } from './actors/inbound/inbox.ts';
import { Scheduler } from './actors/runtime/scheduler.ts';
import { TEAM_INDEXES } from './actors/inbox/teams-store.ts';
import { TypingRelay } from './actors/chat/typing-relay.ts';
import { typingIndicatorSender } from './actors/outbound/typing-indicator.ts';
import { ChatStore } from './actors/chat/chat-store.ts';
import { registerInboxRoutes } from './transport/inbox.routes.ts';
import { Forwarder } from './infra/forwarder.ts';
import type { DestinationStream } from 'pino';

export interface RunningApp {
  readonly port: number;
  readonly log: Logger;
  readonly store: DocumentStore;
  readonly kv: KeyValueStore;
  readonly host: ActorHost;
  readonly inbox: Inbox;
  readonly counters: DashboardCounters;
  readonly scheduler: Scheduler;
  readonly hub: WsHub;
  readonly actors: ActorSystem;
  readonly outbox: Outbox;
  readonly media: MediaDownloads;
  readonly mediaStorage: MediaStorage;
  /** Every HTTP route pattern served. */
  readonly routes: readonly { method: string; pattern: string }[];
  /** Drains and closes everything; safe to call twice. */
  stop(): Promise<void>;
}

const READY_PING_MS = 1000;

/** Indexes created at start-up: each list is declared by the one module that owns its collections. */
const INDEXES = [...CHAT_INDEXES, ...INBOX_INDEXES, ...PRESENCE_INDEXES, ...DISCOUNT_INDEXES, ...USER_INDEXES, ...OUTBOX_INDEXES, ...MEDIA_INDEXES, ...AGENT_INDEXES, ...MEDIA_JOB_INDEXES, ...CONVERSATION_INDEXES];

/** The composition root: connects infrastructure, registers routes, listens. */
export async function startApp(config: Config, logDestination?: DestinationStream): Promise<RunningApp> {
  const log = createLogger({ level: config.LOG_LEVEL, pod: config.POD_ID }, logDestination);
  assertNativeUws(config, log);

  const store = await openStore(config, log);
  let kv: MemoryKv | RedisKv | undefined;
  let inboxStore: DocumentStore;
  let media: Awaited<ReturnType<typeof openMediaStorage>>;
  try {
    kv = await openKv(config, log);
    await store.dropIndexes(OBSOLETE_CHAT_INDEXES);
    await store.ensureIndexes(INDEXES);
    inboxStore = await openInboxStore(config, store, log);
    media = await openMediaStorage(config, store);
  } catch (err) {
    await Promise.allSettled([store.close(), kv?.close()]); // nothing opened so far outlives a failed start
    throw err;
  }
  const closeStores = () => Promise.allSettled([store.close(), inboxStore === store ? undefined : inboxStore.close()]);

  const metrics = new Metrics(config.POD_ID);
  const server = new Server({ log, metrics, corsOrigins: config.CORS_ORIGINS, trustProxyHops: config.TRUST_PROXY_HOPS });
  let draining = false;
  const checks: ReadinessCheck[] = [
    { name: 'mongodb', check: () => readiness(store.kind === 'memory', () => store.ping(READY_PING_MS)) },
    { name: 'redis', check: () => readiness(kv.kind === 'memory', () => kv.ping(READY_PING_MS)) },
  ];
  const agents = new AgentsStore(store);
  const agentTokens = new AgentTokens(agents, { ttlMs: config.AGENT_CHECK_MS });
  const auth = new Authenticator(config.AGENT_JWT_SECRET, agentTokens);
  const hub = new WsHub(server.app, { log, auth });
  const counters = new DashboardCounters(kv, store, hub, log);
  const cluster = await openCluster(kv, config, log);
  const outbound = createOutbound({
    config, store, mediaStorage: media.storage, kv, rooms: hub, log,
    // Media jobs are downloaded by the pod that owns the chat's shard; a claim of a pod gone from the pod list is free.
    media: {
      shardOf: (chatKey) => shardOf('chat', chatKey, cluster.ownership.shards),
      ownedShards: () => [...cluster.ownership.owned().keys()],
      livePods: () => cluster.ownership.livePods(),
    },
  });
  const fanout = kv.kind === 'redis' ? new RedisFanout(kv, config.POD_ID, hub, log) : undefined;
  if (fanout) {
    await fanout.start();
    hub.setFanout(fanout);
  }
  const toAgent = metrics.histogram('chat_message_to_agent_seconds', "Customer message's WhatsApp timestamp (whole seconds) to its new_message push to agents", [0.5, 1, 2, 3, 5, 10, 30, 60, 300]);
  const onCustomerMessagePushed = (seconds: number) => toAgent.observe(seconds);
  const actors = new ActorSystem({ config, log, store, inboxStore, rooms: hub, counters, kv, outbound: outbound.outbox, onCustomerMessagePushed, ...cluster });
  const { host, inbox, chats } = actors;
  const presence = new PresenceStore(store);
  const queries = new ChatQueries(store);
  const typing = typingIndicatorSender(outbound.endpoints, log);
  const chatStore = new ChatStore(store);
  const labelCatalogue = new LabelCatalogue(store);
  const teamInbox = {
    commands: actors.inboxCommands, queries, availability: actors.availability, teams: actors.teams,
    typing: new TypingRelay({ store, kv, rooms: hub, sender: typing, minIntervalMs: config.TYPING_INDICATOR_MIN_MS, log }),
    knownAgent: async (username: string) => {
      const account = await agents.find(username);
      return account ? !account.disabled : actors.availability.known(username);
    },
    loads: (names: readonly string[]) => chatStore.openLoads(names),
    labelExists: (name: string) => labelCatalogue.has(name),
  };
  hub.handle(agentEventHandler({ hub, chats, queries, presence, pod: config.POD_ID, log, media: outbound.media, inbox: teamInbox }));
  const forwarder = config.COMMUNICATION_MASTER_URL ? new Forwarder({ url: config.COMMUNICATION_MASTER_URL, log }) : undefined;
  if (forwarder) {
    metrics.gauge('forwarder_dropped_total', 'Webhook payloads dropped, oldest first, from the full Communication Master queue (1,000 payloads or 8 MiB)', () => forwarder.dropped);
    metrics.gauge('forwarder_queued_bytes', 'Bytes of webhook payloads waiting to be forwarded to Communication Master', () => forwarder.queuedSize);
  }

  // Request budgets per client address (429 RATE_LIMITED with Retry-After past them): one shared by every admin route, one for the template route.
  const adminLimit = new HttpRateLimit('admin requests', { perMinute: config.ADMIN_RATE_LIMIT, maxAddresses: config.RATE_LIMIT_MAX_ADDRESSES });
  const templateLimit = new HttpRateLimit('template sends', { perMinute: config.TEMPLATE_RATE_LIMIT, maxAddresses: config.RATE_LIMIT_MAX_ADDRESSES });
  registerHealthRoutes(server.router, { checks, metrics, isDraining: () => draining });
  registerWebhookAdminRoutes(server.router, { users: new UsersStore(store), auth, verifyToken: config.WEBHOOK_VERIFY_TOKEN, adminLimit });
  registerWebhookRoutes(server.router, { chats, secret: config.WEBHOOK_SECRET, forwarder, log });
  registerDashboardRoutes(server.router, { counters, auth });
  registerMachineRoutes(server.router, { host, auth });
  registerDiscountRoutes(server.router, { catalogue: actors.catalogue, auth, adminLimit });
  registerInboxRoutes(server.router, { teams: actors.teams, auth, adminLimit });
  registerOutboundRoutes(server.router, { chats, cache: outbound.cache, auth, adminLimit, templateLimit });
  registerMediaRoutes(server.router, { storage: media.storage, auth });
  const limiter = new LoginLimiter({ maxFailures: config.LOGIN_FAILURE_LIMIT, windowMs: 60_000, maxKeys: 10_000 });
  const notices = new AgentNotices(kv, log);
  const accounts = new AgentAccounts({ agents, jwtSecret: config.AGENT_JWT_SECRET, tokenTtlS: config.AGENT_TOKEN_TTL_S, limiter, onChange: (username) => {
    agentTokens.forget(username);
    notices.announce(username);
  } });
  registerAccountRoutes(server.router, { accounts, auth, adminLimit });
  registerConsoleChatRoutes(server.router, { chats, presence, auth });
  registerDeskRoutes(server.router, { canned: new CannedResponses(store), labels: labelCatalogue, auth, adminLimit });
  registerReportRoutes(server.router, { reports: new ConversationReports(new ConversationLog(store)), auth, adminLimit });
  registerDocsRoutes(server.router);
  const consoleBuild = await loadConsole().catch((err: Error) => (log.error({ err }, 'the agent console could not be built: GET / answers 503'), err));
  registerConsoleRoutes(server.router, consoleBuild);
  server.router.fallback();

  await actors.start();
  metrics.gauge('actors_resident', 'Actors held in memory on this pod', () => host.residentCount);
  if (fanout) metrics.gauge('ws_rooms_heard_elsewhere', 'WebSocket rooms other pods announced members in (pushes to any other room are not published)', () => fanout.roomsHeardElsewhere);
  metrics.counter('actor_effects_dead_lettered_total', 'Effects given up on after their last attempt and dead-lettered on their actor, by actor kind', 'kind', () => host.deadLetteredTotal);
  metrics.gauge('cluster_owned_shards', 'Shards this pod owns', () => actors.ownership.owned().size);
  metrics.gauge('cluster_routed_local_total', 'Events delivered to actors on this pod', () => actors.dispatcher.stats.routedLocal);
  metrics.gauge('cluster_routed_remote_total', 'Events sent to the owning pod through its shard stream', () => actors.dispatcher.stats.routedRemote);
  metrics.gauge('cluster_consumed_total', 'Stream entries applied by this pod as owner', () => actors.dispatcher.stats.consumed);
  metrics.gauge('cluster_takeover_claimed_total', 'Pending entries claimed from a previous owner', () => actors.dispatcher.stats.claimed);
  metrics.gauge('cluster_queue_lag', 'Entries read but not yet applied in owned shard streams', () => actors.dispatcher.backlog());
  metrics.gauge('ws_connections', 'Agent WebSocket connections on this pod', () => hub.connectionCount);
  // Monitoring (deploy/grafana, deploy/prometheus): backlog, outbox, Pinbot, message→agent latency, readiness.
  metrics.gauge('inbox_unapplied_events', 'Events this pod acknowledged (webhook 200) and has not applied yet: the backlog', () => inbox.unapplied);
  metrics.gauge('inbox_unapplied_limit', 'MAX_UNAPPLIED_EVENTS: past this backlog webhooks get 503 OVERLOADED', () => config.MAX_UNAPPLIED_EVENTS);
  metrics.counter('outbox_sends_total', 'Outbound WhatsApp sends settled by this pod, by result (sent, failed, uncertain, dry_run)', 'result', () => outbound.outbox.outcomes);
  metrics.counter('media_downloads_total', 'Media download attempts settled by this pod, by outcome (stored, failed, retried)', 'outcome', () => outbound.media.outcomes);
  metrics.gaugeByLabel('media_jobs', 'Media download jobs, all pods: pending (waiting, in backoff or downloading) and failed', 'state', () => outbound.media.countByState());
  metrics.gaugeByLabel('outbox_records', 'Outbox records by state, all pods (pending and sending in all; failed and uncertain created in the last 24 h)', 'state', () => outbound.outbox.countByState());
  const pinbotLatency = metrics.histogram('pinbot_request_duration_seconds', 'Pinbot requests that went out, by method (POST send, GET media) and outcome', [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], ['method', 'outcome']);
  outbound.client.observeAttempts((method, outcome, seconds) => pinbotLatency.observe({ method, outcome }, seconds));
  const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
  const liveOrigins = [...new Set(outbound.endpoints.sendTypes.map((t) => outbound.endpoints.resolve(t)).filter((r) => r.apiKey !== undefined).map((r) => r.originUrl))];
  metrics.gaugeByLabel('pinbot_breaker_state', 'Pinbot circuit breaker per origin: 0 closed, 1 half-open (one probe), 2 open (sends fail at once)', 'origin', () => Object.fromEntries(liveOrigins.map((o) => [o, BREAKER_VALUE[outbound.client.breakerState(o)]])));
  metrics.counter('pinbot_breaker_opened_total', 'Times a Pinbot circuit breaker opened, by origin', 'origin', () => outbound.client.breakerOpenings);
  metrics.gauge('app_ready', 'Readiness as /api/health/ready answers it: 1 ready, 0 failing or draining', async () =>
    draining ? 0 : (await Promise.all(checks.map((c) => c.check().then(() => true, () => false)))).every(Boolean) ? 1 : 0);
  const scheduler = new Scheduler(kv, config.POD_ID, log);
  const resync = { name: 'counter_sync', everyMs: 5 * 60_000, exclusive: { lockTtlMs: 60_000 }, run: (stillHolds: () => Promise<boolean>) => counters.resync(stillHolds) };
  await scheduler.runOnce(resync); // spec §12.1: counters from MongoDB before serving
  scheduler.every(resync);
  if (fanout) scheduler.every({ name: 'ws_rooms_announce', everyMs: ANNOUNCE_EVERY_MS, run: async () => fanout.announceRooms() });
  await inbox.recover(0); // what a crashed predecessor acknowledged but never applied
  // Events acknowledged but not applied (a crash, a failed delivery) are applied on the next pass.
  scheduler.every({ name: 'inbox_recovery', everyMs: 10_000, exclusive: { lockTtlMs: 30_000 }, run: () => inbox.recover(5_000) });
  scheduler.every({ name: 'inbox_prune', everyMs: 60_000, exclusive: { lockTtlMs: 60_000 }, run: () => inbox.prune(config.INBOX_RETENTION_MS) });
  scheduler.every({ name: 'actor_deadlines', everyMs: 5_000, run: () => host.fireDueDeadlines() });
  // Team inbox: this pod's sockets keep their agents alive; one pod turns agents without a socket anywhere offline; the assignment backstop pass.
  scheduler.every({ name: 'agent_heartbeat', everyMs: Math.max(250, Math.floor(config.AGENT_OFFLINE_AFTER_MS / 4)), run: () => actors.availability.heartbeat() });
  scheduler.every({ name: 'agent_offline_sweep', everyMs: Math.max(250, Math.min(5_000, Math.floor(config.AGENT_OFFLINE_AFTER_MS / 4))), exclusive: { lockTtlMs: 30_000 }, run: (stillHolds) => actors.availability.sweep(stillHolds) });
  scheduler.every({ name: 'inbox_assign', everyMs: config.INBOX_ASSIGN_SWEEP_MS, run: () => actors.assigner.pass() });
  // An account changed on any pod: forget it here and close its sockets whose tokens it revoked.
  const stopListening = await notices.listen((username) => {
    agentTokens.forget(username);
    void hub.revalidate(username);
  });
  // The backstop for a lost notice: every open account socket re-checked (the cache expiring on the same period).
  scheduler.every({ name: 'ws_token_check', everyMs: config.AGENT_CHECK_MS, run: () => hub.revalidate().then(() => undefined) });
  const admin = await bootstrapAdmin(agents, accounts, { username: config.ADMIN_USERNAME, password: config.ADMIN_PASSWORD, env: config.NODE_ENV }, log);
  await outbound.outbox.recover(); // sends a crash left in flight become `uncertain` (never re-sent); pending ones are queued
  scheduler.every({ name: 'outbox_sweep', everyMs: 5_000, run: () => outbound.outbox.sweep() });
  await outbound.media.recover(); // downloads a previous run of this pod left claimed are tried again
  scheduler.every({ name: 'media_sweep', everyMs: outbound.media.sweepEveryMs, run: () => outbound.media.sweep() });
  // A stored job has done its work: kept a day for inspection, then deleted (failed ones stay for an agent's retry).
  scheduler.every({ name: 'media_prune', everyMs: 10 * 60_000, exclusive: { lockTtlMs: 60_000 }, run: () => outbound.media.prune(86_400_000) });

  let port: number;
  try {
    port = await server.listen(config.HOST, config.PORT);
  } catch (err) {
    cluster.close();
    media.close();
    await Promise.all([kv.close(), closeStores()]);
    throw new StartupError((err as Error).message);
  }
  log.info(
    { port, host: config.HOST, mongodb: store.kind === 'memory' ? 'embedded' : redactUrl(config.MONGO_URL ?? ''), redis: kv.kind === 'memory' ? 'embedded' : redactUrl(config.REDIS_URL ?? '') },
    `Smart Chat API Running on ${config.HOST}:${port}`,
  );
  if (config.jwtSecretGenerated) {
    const token = signToken({ sub: 'dev-admin', role: 'admin', ttlSeconds: 12 * 3600 }, config.AGENT_JWT_SECRET);
    // Printed, not logged: the logger redacts tokens, and this one is for a developer to copy.
    process.stdout.write(`\nAGENT_JWT_SECRET is unset: using a random secret for this process.\nDevelopment admin token (12 h): ${token}\n\n`);
  }
  if (admin.generatedPassword !== undefined) {
    // Printed once, when the account is created (not logged, like the token above); it is stored only as a hash.
    process.stdout.write(`Admin account created: username ${config.ADMIN_USERNAME}, password ${admin.generatedPassword}\n(shown once; log in with POST /api/auth/login, change it with PATCH /api/agents/${config.ADMIN_USERNAME})\n\n`);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      draining = true;
      log.info('draining: refusing new connections');
      server.router.startDraining();
      server.stopAccepting();
      const left = await server.router.waitIdle(config.SHUTDOWN_GRACE_MS);
      if (left > 0) log.warn({ left }, 'shutdown grace period ended with requests in flight');
      await scheduler.stop();
      await stopListening().catch(() => undefined);
      hub.closeAll();
      await actors.stop();
      cluster.close();
      await outbound.close(Math.min(config.SHUTDOWN_GRACE_MS, 5_000));
      await typing.close();
      media.close();
      await forwarder?.close();
      await presence.clearPod(config.POD_ID).catch(() => undefined);
      await fanout?.stop();
      // uWS flushes corked responses on its next loop turn; give the last ones time to leave.
      await new Promise((r) => setTimeout(r, 50));
      await Promise.allSettled([kv.close(), closeStores()]);
      log.info('stopped');
    })());

  return { port, log, store, kv, host, inbox, counters, scheduler, hub, actors, outbox: outbound.outbox, media: outbound.media, mediaStorage: media.storage, routes: server.router.routes, stop };
}

function assertNativeUws(config: Config, log: Logger): void {
  if (uwsIsNative()) return;
  if (!config.UWS_ALLOW_FALLBACK) {
    throw new StartupError('uWebSockets.js native binary did not load (Node.js ABI or glibc mismatch); set UWS_ALLOW_FALLBACK=true to run the slow JS fallback');
  }
  log.warn('uWebSockets.js is running its pure-JS fallback: expect far lower throughput');
}

async function openStore(config: Config, log: Logger, maxPoolSize?: number): Promise<DocumentStore> {
  if (!config.MONGO_URL) return new MemoryStore();
  const url = config.MONGO_URL;
  return connectWithRetry('MongoDB', config.STARTUP_CONNECT_ATTEMPTS, () => MongoStore.connect({ url, dbName: config.MONGO_DB, serverSelectionTimeoutMS: 2000, maxPoolSize }), log);
}

/** Pool size of the inbox's own MongoDB connections: one insert batch per event-loop turn needs few. */
const INBOX_POOL_SIZE = 4;

/**
 * The inbox on its own connections (MongoDB): webhook acknowledgements wait
 * only for their insert, never behind the saves of events being applied.
 */
function openInboxStore(config: Config, store: DocumentStore, log: Logger): Promise<DocumentStore> {
  return config.MONGO_URL ? openStore(config, log, INBOX_POOL_SIZE) : Promise.resolve(store);
}

async function openKv(config: Config, log: Logger): Promise<MemoryKv | RedisKv> {
  if (!config.REDIS_URL) return new MemoryKv();
  const url = config.REDIS_URL;
  let lastLogged = 0;
  const onError = (err: Error) => {
    // ioredis repeats connection errors on every retry; one line per 10 s is enough.
    if (Date.now() - lastLogged > 10_000) log.warn({ err: err.message }, 'redis connection error');
    lastLogged = Date.now();
  };
  return connectWithRetry('Redis', config.STARTUP_CONNECT_ATTEMPTS, () => RedisKv.connect({ url, onError, prefix: config.REDIS_PREFIX }), log);
}

/**
 * Who owns which actor, and how events reach it: one pod owns everything and
 * events go straight to its mailboxes (no Redis), or leases and per-shard
 * streams in Redis, on connections of their own (one of them may block).
 */
async function openCluster(kv: MemoryKv | RedisKv, config: Config, log: Logger): Promise<Pick<ActorSystemDeps, 'ownership' | 'dispatcher'> & { close(): void }> {
  if (kv.kind === 'memory') {
    const ownership = new LocalOwnership(config.POD_ID);
    return { ownership, dispatcher: (host) => new LocalDispatcher(host, ownership.shards), close: () => undefined };
  }
  const commands = await kv.connection();
  const blocking = await kv.connection({ commandTimeoutMs: 0 });
  const ownership = new RedisOwnership({ redis: commands, prefix: kv.prefix, pod: config.POD_ID, log, notices: kv });
  return {
    ownership,
    dispatcher: (host) => new StreamDispatcher({ host, ownership, kv, redis: commands, blocking, prefix: kv.prefix, pod: config.POD_ID, log }),
    close: () => {
      commands.disconnect();
      blocking.disconnect();
    },
  };
}

async function readiness(embedded: boolean, ping: () => Promise<void>): Promise<'ok' | 'embedded'> {
  if (embedded) return 'embedded';
  await ping();
  return 'ok';
}
