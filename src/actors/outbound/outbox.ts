import { MessageBuildError, assertCloudMessage } from '../../domain/messages.ts';
import type { PinbotEndpoints } from '../../domain/pinbot-endpoints.ts';
import type { Logger } from '../../infra/logger.ts';
import type { OutboundError, PinbotClient, SendOutcome } from '../../infra/pinbot/pinbot-client.ts';
import type { ChatResponseCache } from '../../infra/pinbot/response-cache.ts';
import type { Doc, DocumentStore } from '../../infra/store/store.ts';
import { LaneQueue } from './outbox-queue.ts';
import type { DeliveryUpdate, MediaJob, OutboundRequest, OutboundSender } from './outbound.ts';
import { OutboxStore } from './outbox-store.ts';
import type { RoomPublisher } from '../runtime/room-publisher.ts';
import { ChatStore } from '../chat/chat-store.ts';

/**
 * `pending` → `sending` → `sent` | `failed` | `uncertain`; `dry_run` when the
 * channel has no API key. Only `pending` is ever picked up for sending, and
 * only by an atomic `pending → sending` claim, so a message is sent at most once.
 */
export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'dry_run' | 'uncertain';

export interface OutboxOptions {
  store: DocumentStore;
  client: PinbotClient;
  endpoints: PinbotEndpoints;
  rooms: RoomPublisher;
  log: Logger;
  pod: string;
  /** Where Pinbot's answer to each send is kept 30 minutes (spec §6 `chat_response::{message}`; FR-10 clears it). */
  responses?: ChatResponseCache | undefined;
  /** Inbound media downloads, reached through `recordMedia`. */
  media?: { record(job: MediaJob): Promise<void> } | undefined;
  /** Sends in flight at once (each customer's messages still go one at a time, in order). */
  concurrency?: number;
  /** Sends waiting in memory; past it they wait in the collection for the sweep. */
  maxQueue?: number;
  /** A `sending` record older than this cannot be in flight anywhere (the client's send budget is far shorter). */
  staleMs?: number;
  /** A `pending` record of another pod this old is taken over (that pod is gone or far behind). */
  orphanMs?: number;
  /** A `pending` record of this pod not queued for this long (the queue was full) is queued again. */
  resumeAfterMs?: number;
  now?: () => number;
}

const CRASHED: OutboundError = {
  code: 'UPSTREAM_UNAVAILABLE',
  message: 'The pod sending this message stopped before Pinbot answered: it may or may not have reached the customer, so it is not sent again automatically',
};

/**
 * The exactly-once outbound path (DESIGN.md decision 5): each send is recorded
 * (`outbox-store.ts`) under its idempotency key before any request, then sent
 * by a bounded background queue through the Pinbot client. Outcomes land on
 * the record and on the chat message (`outbound_status`, `wa_message_id`,
 * through `chat-store.ts`) and are pushed to the chat's room as `message_status`.
 */
export class Outbox implements OutboundSender {
  private readonly queue: LaneQueue;
  private readonly outbox: OutboxStore;
  private readonly messages: ChatStore;
  private readonly now: () => number;
  /** Outcomes this process recorded, by state (metrics: `outbox_sends_total`). */
  readonly outcomes: Record<string, number> = { sent: 0, failed: 0, uncertain: 0, dry_run: 0 };
  private stateCounts: { at: number; counts: Promise<Record<string, number>> } | undefined;

  constructor(private readonly opts: OutboxOptions) {
    this.outbox = new OutboxStore(opts.store);
    this.messages = new ChatStore(opts.store);
    this.now = opts.now ?? Date.now;
    this.queue = new LaneQueue((key) => this.process(key), {
      concurrency: opts.concurrency ?? 8,
      maxQueued: opts.maxQueue ?? 10_000,
      onError: (err, key) => opts.log.error({ err, outboxKey: key }, 'outbox: send failed unexpectedly (the record is left for the sweep)'),
    });
  }

  async send(req: OutboundRequest): Promise<void> {
    assertCloudMessage(req.message);
    if (!/^\d{8,15}$/.test(req.to)) throw new MessageBuildError(`to: expected the number with its country code, got "${req.to}"`);
    const route = this.opts.endpoints.resolve(req.sendType);
    const now = new Date(this.now());
    const dry = route.apiKey === undefined;
    const doc: Doc = {
      _id: req.key,
      chat_id: req.chatId,
      message_id: req.messageId ?? null,
      to: req.to,
      send_type: req.sendType,
      business_number: route.businessNumber,
      type: req.message.type,
      body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: req.to, ...req.message },
      state: dry ? 'dry_run' : 'pending',
      pod: this.opts.pod,
      attempts: 0,
      created_at: now,
      updated_at: now,
    };
    if (!(await this.outbox.record(doc))) return; // this logical send is already recorded: nothing more to do
    if (dry) {
      this.opts.log.info({ outboxKey: req.key, channel: req.sendType, type: req.message.type }, 'outbound WhatsApp (dry-run: no API key for this channel)');
      await this.settle(doc, 'dry_run');
      return;
    }
    // Full queue: the record stays `pending` and the sweep queues it later.
    this.queue.push(req.to, req.key);
  }

  async recordDelivery(u: DeliveryUpdate): Promise<void> {
    const fields = { delivery_status: u.status, delivery_updated_at: new Date(u.at), ...(u.error ? { delivery_error: u.error } : {}) };
    if (await this.outbox.recordDelivery(u.waMessageId, fields)) return;
    // No send has this id yet: the status may have overtaken Pinbot's answer. Kept briefly for `finish`.
    await this.outbox.keepEarly(u.waMessageId, fields, new Date(this.now()));
  }

  async recordMedia(job: MediaJob): Promise<void> {
    await this.opts.media?.record(job);
  }

  /**
   * Start-up: sends this pod (by POD_ID) or a long-gone pod left in `sending`
   * become `uncertain` (shown to agents, never re-sent); `pending` ones are queued.
   */
  async recover(): Promise<{ uncertain: number; queued: number }> {
    const uncertain = await this.markUncertain({ $or: [{ pod: this.opts.pod }, { claimed_at: { $lt: this.ago(this.opts.staleMs ?? 120_000) } }] });
    const queued = await this.resume({ $or: [{ pod: this.opts.pod }, { created_at: { $lt: this.ago(this.opts.orphanMs ?? 30_000) } }] });
    if (uncertain || queued) this.opts.log.warn({ uncertain, queued }, 'outbox recovered sends left by a previous run');
    return { uncertain, queued };
  }

  /** Periodic: stale `sending` records → `uncertain`; overflowed or orphaned `pending` records → queued. */
  async sweep(): Promise<{ uncertain: number; queued: number }> {
    const uncertain = await this.markUncertain({ claimed_at: { $lt: this.ago(this.opts.staleMs ?? 120_000) } });
    const queued = await this.resume({
      $or: [{ pod: this.opts.pod, created_at: { $lt: this.ago(this.opts.resumeAfterMs ?? 5_000) } }, { created_at: { $lt: this.ago(this.opts.orphanMs ?? 30_000) } }],
    });
    // Statuses of messages this service never sent (another system on the same number) are not kept.
    await this.outbox.dropEarlyBefore(this.ago(10 * 60_000));
    return { uncertain, queued };
  }

  /**
   * Records by state, across all pods (metrics: `outbox_records`): `pending`
   * and `sending` in all, `failed` and `uncertain` created in the last 24 h
   * (those stay for people, so their totals only grow). Four counts on the
   * `state_created` index, reused for `maxAgeMs`; a failed count keeps the last one.
   */
  countByState(maxAgeMs = 5_000): Promise<Record<string, number>> {
    const now = this.now();
    if (this.stateCounts && now - this.stateCounts.at < maxAgeMs) return this.stateCounts.counts;
    const previous = this.stateCounts?.counts ?? Promise.resolve({});
    const day = new Date(now - 24 * 3_600_000);
    const counts = Promise.all([
      this.outbox.countInState('pending'), this.outbox.countInState('sending'), this.outbox.countInState('failed', day), this.outbox.countInState('uncertain', day),
    ]).then(([pending, sending, failed, uncertain]) => ({ pending, sending, failed, uncertain }) as Record<string, number>, () => previous);
    this.stateCounts = { at: now, counts };
    return counts;
  }

  /** Resolves when nothing is queued or in flight (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Stops taking work and waits up to `timeoutMs` for sends in flight; queued ones stay `pending` for the next run. */
  async close(timeoutMs = 5000): Promise<void> {
    const left = await this.queue.close(timeoutMs);
    if (left) this.opts.log.warn({ left }, 'outbox closed with sends in flight: they will be marked uncertain at the next start');
  }

  private async process(key: string): Promise<void> {
    const rec = await this.outbox.claim(key, this.opts.pod, new Date(this.now()));
    if (!rec) return; // sent, or claimed by another pod
    const route = this.opts.endpoints.resolve(String(rec.send_type));
    if (route.apiKey === undefined) {
      await this.outbox.markDryRun(key, new Date(this.now()));
      await this.settle(rec, 'dry_run');
      return;
    }
    const target = { originUrl: route.originUrl, path: route.path, apiKey: route.apiKey, wanumber: route.wanumber, businessNumber: route.businessNumber, channel: route.sendType };
    const outcome = await this.opts.client.send(target, rec.body as Record<string, unknown>, { outboxKey: key, type: String(rec.type) });
    await this.finish(rec, outcome);
  }

  private async finish(rec: Doc, outcome: SendOutcome): Promise<void> {
    const common = { attempts: outcome.attempts, updated_at: new Date(this.now()) };
    const fields =
      outcome.result === 'sent'
        ? { state: 'sent', status_code: outcome.status, sent_at: new Date(this.now()), ...(outcome.waMessageId ? { wa_message_id: outcome.waMessageId } : {}) }
        : { state: outcome.result, error: outcome.error };
    await this.outbox.finish(rec._id, { ...fields, ...common });
    const log = { outboxKey: rec._id, channel: rec.send_type, type: rec.type, attempts: outcome.attempts, state: fields.state };
    await this.cacheResponse(rec, outcome);
    if (outcome.result === 'sent') {
      if (!outcome.waMessageId) this.opts.log.warn(log, 'Pinbot accepted the message but returned no message id: delivery statuses cannot be matched');
      await this.settle(rec, 'sent', { waMessageId: outcome.waMessageId });
      if (outcome.waMessageId) await this.applyEarlyStatus(rec, outcome.waMessageId);
    } else {
      this.opts.log.warn({ ...log, error: outcome.error }, `outbound WhatsApp ${outcome.result}`);
      await this.settle(rec, outcome.result, { error: outcome.error });
    }
  }

  /**
   * Pinbot's answer, under the message's identifier (the chat message id, or the outbox key for a
   * send with no chat message): what an operator looks up, and deletes with FR-10's endpoints. Only a
   * cache — the outbox record is the truth — so failing to write it is logged, never an error.
   */
  private async cacheResponse(rec: Doc, outcome: SendOutcome): Promise<void> {
    if (!this.opts.responses || outcome.result === 'uncertain') return; // uncertain: Pinbot did not answer
    const id = typeof rec.message_id === 'string' ? rec.message_id : String(rec._id);
    const answer = outcome.result === 'sent'
      ? { status: 'sent', http_status: outcome.status, ...(outcome.waMessageId ? { wa_message_id: outcome.waMessageId } : {}) }
      : { status: 'failed', error: outcome.error };
    const entry = { message_id: id, outbox_key: rec._id, send_type: rec.send_type, attempts: outcome.attempts, at: new Date(this.now()).toISOString(), ...answer };
    await this.opts.responses.set(id, entry).catch((err: unknown) => this.opts.log.warn({ err, outboxKey: rec._id }, 'outbox: caching Pinbot\'s answer failed'));
  }

  /** A delivery status that overtook Pinbot's answer, applied now that the id is known. */
  private async applyEarlyStatus(rec: Doc, waMessageId: string): Promise<void> {
    const e = await this.outbox.earlyStatus(waMessageId);
    if (!e) return;
    const status = String(e.delivery_status);
    const fields = { delivery_status: status, delivery_updated_at: e.delivery_updated_at, ...(e.delivery_error ? { delivery_error: e.delivery_error } : {}) };
    await this.outbox.setDelivery(rec._id, fields);
    if (typeof rec.message_id === 'string') await this.messages.setDelivery(rec.message_id, fields);
    await this.outbox.dropEarly(waMessageId);
    this.opts.rooms.publish(String(rec.chat_id), 'message_status', {
      chat_id: rec.chat_id, ...(typeof rec.message_id === 'string' ? { message_id: rec.message_id } : {}), wa_message_id: waMessageId, status,
      ...(e.delivery_error ? { error: e.delivery_error } : {}),
    });
  }

  private async markUncertain(filter: Record<string, unknown>): Promise<number> {
    let n = 0;
    for (const c of await this.outbox.sending(filter)) {
      const rec = await this.outbox.markUncertain(c._id, CRASHED, new Date(this.now()));
      if (!rec) continue;
      n++;
      this.opts.log.warn({ outboxKey: rec._id, channel: rec.send_type, type: rec.type }, 'outbound WhatsApp uncertain: found in flight after a crash; not re-sent');
      await this.settle(rec, 'uncertain', { error: CRASHED });
    }
    return n;
  }

  private async resume(filter: Record<string, unknown>): Promise<number> {
    const free = this.queue.free;
    if (free === 0) return 0;
    let n = 0;
    for (const r of await this.outbox.pending(filter, free)) {
      if (this.queue.has(String(r._id))) continue;
      if (this.queue.push(String(r.to), String(r._id))) n++;
    }
    return n;
  }

  /** The outcome on the chat message (what the dashboard shows) and to the agents in the chat's room. */
  private async settle(rec: Doc, status: OutboxState, extra: { waMessageId?: string | undefined; error?: OutboundError } = {}): Promise<void> {
    this.outcomes[status] = (this.outcomes[status] ?? 0) + 1;
    const chatId = String(rec.chat_id);
    const messageId = typeof rec.message_id === 'string' ? rec.message_id : undefined;
    if (messageId) {
      const outcome = { outbound_status: status, ...(extra.waMessageId ? { wa_message_id: extra.waMessageId } : {}), ...(extra.error ? { outbound_error: extra.error } : {}) };
      await this.messages.setOutboundOutcome(messageId, outcome).catch((err: unknown) => this.opts.log.warn({ err, messageId }, 'outbox: updating the chat message failed'));
    }
    this.opts.rooms.publish(chatId, 'message_status', {
      chat_id: chatId,
      ...(messageId ? { message_id: messageId } : {}),
      outbox_key: rec._id,
      status,
      ...(extra.waMessageId ? { wa_message_id: extra.waMessageId } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    });
  }

  private ago(ms: number): Date {
    return new Date(this.now() - ms);
  }
}
