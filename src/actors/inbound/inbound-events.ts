/**
 * The one inbound path: what a parsed WhatsApp webhook event becomes. Each
 * event is a durable inbox item for the customer's chat actor and, on the
 * automated discount channel, one more for their discount actor; at delivery
 * the discount one is classified against the route catalogue (the catalogue
 * an admin may have edited since it was stored) into the discount machine's
 * event. Typed end to end: no other module builds inbound actor events.
 */
import { z } from 'zod';
import type { Channel } from '../../domain/channels.ts';
import { chatKey } from '../../domain/chat-key.ts';
import { classify, type DiscountInbound, type RouteTemplate } from '../../domain/discount-catalogue.ts';
import type { WebhookEvent } from '../../domain/webhook.ts';
import type { ChatEvent } from '../../machines/chat.machine.ts';
import type { DiscountEvent } from '../../machines/discount.machine.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { Deliver, InboxItem } from './inbox.ts';

/** A discount-channel message as stored, before classification. */
export type DiscountInboundEvent = DiscountInbound & { type: 'INBOUND' };

/** An inbox item built here: addressed to a chat actor, or (unclassified) to a discount actor. */
export type InboundItem =
  | { id: string; kind: 'chat'; key: string; event: ChatEvent }
  | { id: string; kind: 'discount'; key: string; event: DiscountInboundEvent };

/** Hands an event to its actor in that actor's order (the host's mailbox, or its shard's stream). */
export type Dispatch = (kind: string, key: string, event: ActorEvent) => { queued: Promise<void>; done: Promise<unknown> };

/** The inbox items of one webhook event. */
export function inboundItems(channel: Channel, e: WebhookEvent): InboundItem[] {
  const chat = chatItem(channel, e);
  if (!channel.automated || e.kind !== 'message') return [chat];
  const event: DiscountInboundEvent = {
    type: 'INBOUND',
    id: `discount:${e.waMessageId}`,
    at: chat.event.at,
    kind: e.type,
    text: e.text,
    ...(e.buttonPayload === undefined ? {} : { buttonPayload: e.buttonPayload }),
    ...(e.interactiveReplyId === undefined ? {} : { interactiveReplyId: e.interactiveReplyId }),
  };
  return [chat, { id: event.id, kind: 'discount', key: e.from, event }];
}

/** A webhook event as the inbox item of the customer's chat actor. */
export function chatItem(channel: Channel, e: WebhookEvent): InboundItem & { kind: 'chat' } {
  const at = e.timestamp.getTime();
  if (e.kind === 'status') {
    const error = e.errors?.[0] ? [e.errors[0].code, e.errors[0].title ?? e.errors[0].message].filter(Boolean).join(' ') : undefined;
    const event: ChatEvent = { type: 'DELIVERY', id: `status:${e.waMessageId}:${e.status}`, at, waMessageId: e.waMessageId, status: e.status, ...(error ? { error } : {}) };
    // A status comes back on the webhook of the number that sent the message: that number's type is the chat's.
    return { id: event.id, kind: 'chat', key: chatKey(e.recipient, channel.customerType), event };
  }
  const { kind: _k, waMessageId, from: _f, waFrom: _w, name, timestamp: _t, type, text, media, businessNumber: _b, ...extra } = e;
  const event: ChatEvent = {
    type: 'CUSTOMER_MESSAGE',
    id: `msg:${waMessageId}`,
    at,
    channel: channel.id,
    customerType: channel.customerType,
    ...(name ? { name } : {}),
    // To the bot's number: kept out of agents' lists until the bot hands over.
    ...(channel.automated ? { automated: true } : {}),
    body: { kind: type, text, waMessageId, ...(media ? { media: { ...media } } : {}), ...(Object.keys(extra).length ? { extra } : {}) },
  };
  return { id: event.id, kind: 'chat', key: chatKey(e.from, channel.customerType), event };
}

/** The discount machine's event for a stored discount-channel message, or null for one it ignores (a reaction). */
export function discountEvent(stored: DiscountInboundEvent, routes: readonly RouteTemplate[], campaignRoute: string): DiscountEvent | null {
  return classify(stored, routes, campaignRoute);
}

/**
 * The inbox's delivery: chat items go to their actor as stored; discount items
 * are classified first, against the catalogue as it is now.
 */
export function deliverInbound(deps: { dispatch: Dispatch; routes: () => Promise<readonly RouteTemplate[]>; campaignRoute: string }): Deliver {
  return (item: InboxItem) => {
    if (item.kind !== 'discount') return deps.dispatch(item.kind, item.key, item.event);
    const handed = deps.routes().then((routes) => {
      const event = discountEvent(storedDiscountInbound(item.event), routes, deps.campaignRoute);
      return event ? deps.dispatch('discount', item.key, event) : null;
    });
    return { queued: handed.then((h) => h?.queued), done: handed.then((h) => h?.done) };
  };
}

/** A discount item's event as read back from the inbox (a store is a boundary too): checked, not cast. */
const storedDiscountSchema = z.object({
  type: z.literal('INBOUND'),
  id: z.string(),
  at: z.number(),
  kind: z.string(),
  text: z.string(),
  buttonPayload: z.string().optional(),
  interactiveReplyId: z.string().optional(),
});

function storedDiscountInbound(e: ActorEvent): DiscountInboundEvent {
  const parsed = storedDiscountSchema.safeParse(e);
  if (!parsed.success) throw new Error(`inbox item ${e.id} is not a stored discount message: ${parsed.error.issues[0]?.message}`);
  const { buttonPayload, interactiveReplyId, ...rest } = parsed.data;
  return { ...rest, ...(buttonPayload === undefined ? {} : { buttonPayload }), ...(interactiveReplyId === undefined ? {} : { interactiveReplyId }) };
}
