import { REASONS } from '../../domain/discount-catalogue.ts';
import { contactCardMessage, ctaUrlMessage, replyButtonsMessage, textMessage, type CloudMessage } from '../../domain/messages.ts';
import { PREDEFINED_RESPONSES } from '../../domain/responses.ts';
import { toWhatsApp } from '../../domain/phone.ts';
import { channelById } from '../../domain/channels.ts';
import { chatKey } from '../../domain/chat-key.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import type { ChatContext, ChatEvent } from '../../machines/chat.machine.ts';
import type { DiscountContext, DiscountEffect, DiscountRoute, HandoverNotice } from '../../machines/discount.machine.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { AskActor } from '../cluster/dispatch.ts';
import type { CatalogueStore } from './catalogue-store.ts';
import { DiscountStore } from './discount-store.ts';
import type { OutboundSender } from '../outbound/outbound.ts';

export const APP_URL = 'https://oneway.cab/app';
export const FOOTER = 'Inter-City Experts';
/** Shown as the sender of the bot's messages in the agents' chat history. */
export const DISCOUNT_BOT = 'discount-bot';
/** The discount number's channel: the bot's messages are recorded as sent on it. */
const DISCOUNT_CHANNEL = '9638120888';
/** What a customer who asked for a person hears (in the language of the care message). */
export const HANDOVER_NOTICE = 'Thank you! A OneWay.Cab team member will reply to you here shortly. 🙏';

export interface DiscountEffectDeps {
  store: DocumentStore;
  catalogue: CatalogueStore;
  outbound: OutboundSender;
  /** Records each bot message in the customer's chat, so agents can read the conversation. */
  ask: AskActor;
}

/** The chat the bot's conversation with `customer` is kept in: the one of the bot number's stakeholder type. */
function botChatKey(customer: string): string {
  return chatKey(customer, channelById(DISCOUNT_CHANNEL)!.customerType);
}

/**
 * Carries out what the discount machine emitted: WhatsApp messages through the
 * outbox (each with a key derived from the event, so a re-run sends nothing
 * twice), each also stored in the customer's chat; declines' reasons logged (`discount-store.ts`).
 */
export function discountEffects(deps: DiscountEffectDeps) {
  const records = new DiscountStore(deps.store);

  async function send(customer: string, eventId: string, at: number, messages: CloudMessage[]): Promise<void> {
    for (const [i, message] of messages.entries()) {
      const key = `discount:${customer}:${eventId}:${i}`;
      const event: ChatEvent = { type: 'BOT_MESSAGE', id: key, at, bot: DISCOUNT_BOT, channel: DISCOUNT_CHANNEL, body: { kind: String(message.type), text: summary(message) } };
      const chat = await deps.ask('chat', botChatKey(customer), event as ActorEvent);
      const context = chat.context as ChatContext;
      await deps.outbound.send({ key, chatId: context.chatId, to: toWhatsApp(customer), sendType: 'discount', message, messageId: `${context.chatId}:${context.lastSeq}` });
    }
  }

  /**
   * Puts the customer's chat in the agents' Active list (reopening a resolved one), then says `say` — unless
   * agents already had the chat active: the bot does not talk over people (a conversation that timed out
   * while they were at it hands over again on the customer's next word, without the care message).
   */
  async function handOver(customer: string, eventId: string, at: number, say: HandoverNotice): Promise<void> {
    const channel = channelById(DISCOUNT_CHANNEL)!;
    const event: ChatEvent = { type: 'HANDOVER', id: `handover:${eventId}`, at, by: DISCOUNT_BOT, channel: channel.id, customerType: channel.customerType };
    const chat = await deps.ask('chat', botChatKey(customer), event as ActorEvent);
    const alreadyWithAgents = !chat.handled && !chat.duplicate && chat.value === 'active';
    if (alreadyWithAgents || say === 'none') return;
    await send(customer, eventId, at, say === 'care' ? careMessages() : [textMessage(HANDOVER_NOTICE)]);
  }

  return async function execute(key: string, effects: readonly unknown[], ctx: unknown): Promise<void> {
    const context = ctx as DiscountContext;
    for (const effect of effects as DiscountEffect[]) {
      const at = 'at' in effect ? effect.at : Date.now();
      switch (effect.type) {
        case 'offer.send':
          await send(key, effect.eventId, at, await offer(deps.catalogue, effect.route));
          break;
        case 'code.send':
          await send(key, effect.eventId, at, [codeMessage(effect.route)]);
          break;
        case 'reasons.ask':
          await send(key, effect.eventId, at, [
            replyButtonsMessage('Sorry to hear that. Could you tell us why?', Object.entries(REASONS).map(([id, title]) => ({ id, title })), { footer: FOOTER }),
          ]);
          break;
        case 'reason.log':
          await records.logReason(`${key}:${effect.eventId}`, context.customer, effect.reason, effect.at);
          break;
        case 'care.send':
          await send(key, effect.eventId, at, careMessages());
          break;
        case 'handover.request':
          await handOver(key, effect.eventId, at, effect.say);
          break;
        case 'predefined.send':
          await send(key, effect.eventId, at, [textMessage(PREDEFINED_RESPONSES[effect.key])]);
          break;
      }
    }
  };
}

/** FR-2: the route's discount text (header, body with the code, footer), then the app link. */
async function offer(catalogue: CatalogueStore, route: DiscountRoute): Promise<CloudMessage[]> {
  const t = (await catalogue.all()).find((r) => r._id === route.id);
  const text = t ? `*${t.header}*\n\n${t.body}\n\n_${t.footer}_` : `${route.name} @ ₹${route.price}\nDiscount code: *${route.code}*\n\n_${FOOTER}_`;
  return [textMessage(text), ctaUrlMessage(`Book ${route.name} in the OneWay.Cab app and apply your code at checkout.`, 'Open App', APP_URL, { footer: FOOTER })];
}

/** The care path of FR-2: the default care message and the OneWay.Cab contact card. */
const careMessages = (): CloudMessage[] => [textMessage(PREDEFINED_RESPONSES.default), contactCardMessage()];

function codeMessage(route: DiscountRoute): CloudMessage {
  return ctaUrlMessage(`🎟️ Your discount code for ${route.name} (₹${route.price}): *${route.code}*\nApply it at checkout in the app.`, 'Book Now', APP_URL, { header: 'Your discount code', footer: FOOTER });
}

/** What agents read in the chat for a bot message: its text, or its kind. */
function summary(m: CloudMessage): string {
  const text = (m.text as { body?: string } | undefined)?.body;
  const interactive = (m.interactive as { body?: { text?: string } } | undefined)?.body?.text;
  return text ?? interactive ?? `[${String(m.type)}]`;
}
