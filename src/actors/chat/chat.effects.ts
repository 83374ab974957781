import { agentReplySendType, channelById, roomUpdateEvent } from '../../domain/channels.ts';
import { chatKey } from '../../domain/chat-key.ts';
import { assertCloudMessage, templateMessage, textMessage, type CloudMessage } from '../../domain/messages.ts';
import { toWhatsApp } from '../../domain/phone.ts';
import type { Logger } from '../../infra/logger.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import type { StateValue } from 'xstate';
import { listingOf, type ChatContext, type ChatEffect, type ChatStatus, type MessageBody } from '../../machines/chat.machine.ts';
import type { ConversationLog } from '../desk/conversation-log.ts';
import { ChatStore, OPEN_STATUSES } from './chat-store.ts';
import { chatOut, chatSummary, messageDoc, messageOut } from './chat-views.ts';
import type { DashboardCounters } from './dashboard-counters.ts';
import type { OutboundSender } from '../outbound/outbound.ts';
import { DASHBOARD_ROOM, agentRoom, type RoomPublisher } from '../runtime/room-publisher.ts';

export interface ChatEffectDeps {
  store: DocumentStore;
  rooms: RoomPublisher;
  counters: DashboardCounters;
  outbound: OutboundSender;
  log: Logger;
  /** Told the age in seconds of each customer message (from its WhatsApp timestamp: whole seconds, the sender's clock) as it is pushed to agents. */
  onCustomerMessagePushed?: (seconds: number) => void;
  /** The conversation log the reports read (#18). */
  conversations?: ConversationLog;
  /** The round-robin assigner: asked for a pass when a chat waits unassigned or an agent's load drops. */
  assigner?: { kick(): void };
}

/**
 * Carries out what the chat machine emitted, after its new state is stored.
 * Every step is idempotent (deterministic ids, duplicate keys ignored), since
 * effects left pending by a crash run again on the next activation.
 */
export function chatEffects(deps: ChatEffectDeps) {
  const chats = new ChatStore(deps.store);

  return async function execute(_key: string, effects: readonly unknown[], ctx: unknown, value: StateValue): Promise<void> {
    const context = ctx as ChatContext;
    // The chat's status after the event (a message on a resolved chat leaves it resolved; a customer's reopens it).
    const listing = listingOf(value);
    const status = listing === 'bot' ? 'active' : listing;
    // A chat only the discount bot has had is not in agents' lists: nothing about it goes to the dashboards.
    const listed = value !== 'bot';
    const chatId = context.chatId;
    const summary = () => chatOut({ _id: chatId, ...chatSummary(context, status, { state: { value, context }, deadlines: [] }) });
    // The views pushed are built per event: only for a room someone can hear (no dashboard open, no agent in the chat: none).
    const heard = (room: string) => deps.rooms.reaches?.(room) ?? true;
    const roomUpdate = () => heard(DASHBOARD_ROOM) && deps.rooms.publish(DASHBOARD_ROOM, roomUpdateEvent(context.customerType), summary());
    for (const effect of effects as ChatEffect[]) {
      switch (effect.type) {
        case 'chat.opened':
          await deps.counters.change({ active: 1 }, `${chatId}:opened`);
          break;
        case 'chat.handedOver':
          roomUpdate();
          break;
        case 'message.appended': {
          const doc = messageDoc(chatId, effect.message);
          await chats.appendMessage(doc);
          if (heard(chatId)) deps.rooms.publish(chatId, 'new_message', messageOut(doc));
          if (listed) {
            if (effect.message.type === 'Customer') deps.onCustomerMessagePushed?.(Math.max(0, Date.now() - effect.message.at) / 1000);
            roomUpdate();
          }
          const media = effect.message.body.media as { id?: unknown; mimeType?: unknown } | undefined;
          // Customer media: a durable download job recorded here (re-run safely); the download itself runs in the background.
          if (effect.message.type === 'Customer' && typeof media?.id === 'string') {
            await deps.outbound.recordMedia?.({ chatId, chatKey: chatKey(context.customer, context.customerType), messageId: String(doc._id), mediaId: media.id, channel: effect.message.channel, mimeType: typeof media.mimeType === 'string' ? media.mimeType : undefined });
          }
          break;
        }
        case 'status.changed': {
          const resolved = effect.to === 'resolved';
          await deps.counters.change({ [effect.from]: -1, [effect.to]: 1 }, `${chatId}:${effect.eventId}`);
          if (resolved) {
            await chats.logResolved(chatId, effect.eventId, { customer: context.customer, customerType: context.customerType, by: effect.by, at: effect.at });
            await deps.conversations?.resolved(chatId, context.inbox.conversation, { by: effect.by, at: effect.at });
          }
          // To every dashboard, not only the chat's room: every agent's list moves the chat between tabs.
          // (Every connection is in `dashboard`, so the chat's room members get it there, once.)
          deps.rooms.publish(DASHBOARD_ROOM, 'chat_status_updated', {
            chat_id: chatId, customer: context.customer, status: effect.to, previous_status: effect.from,
            status_updated_by: effect.by, status_updated_at: new Date(effect.at).toISOString(),
            snoozed_until: context.inbox.snoozedUntil === null ? null : new Date(context.inbox.snoozedUntil).toISOString(),
          });
          // Its agent has one open chat fewer: the Unassigned queue may move.
          if (context.inbox.assignee !== null && opens(effect.from) && !opens(effect.to)) deps.assigner?.kick();
          break;
        }
        case 'conversation.opened':
          await deps.conversations?.opened({ chatId, conversation: effect.conversation, customer: context.customer, customerType: context.customerType, channel: context.channel, team: context.inbox.team, at: effect.at });
          break;
        case 'conversation.responded':
          await deps.conversations?.firstResponse(chatId, effect.conversation, { agent: effect.agent, at: effect.at });
          break;
        case 'assignment.changed':
          await deps.conversations?.assigned(chatId, effect.conversation, { assignee: effect.to, team: effect.team, at: effect.at });
          deps.rooms.publish(DASHBOARD_ROOM, 'chat_assigned', {
            chat_id: chatId, customer: context.customer, assignee: effect.to, previous_assignee: effect.from, team: effect.team, by: effect.by, at: new Date(effect.at).toISOString(),
          });
          if (listed) roomUpdate();
          // The previous agent has one open chat fewer.
          if (effect.from !== null && opens(status)) deps.assigner?.kick();
          break;
        case 'assignment.wanted':
          if (context.inbox.assignee === null && value === 'active') deps.assigner?.kick();
          break;
        case 'note.mentioned':
          for (const agent of effect.mentions) {
            deps.rooms.publish(agentRoom(agent), 'mention', {
              chat_id: chatId, customer: context.customer, message_id: messageDoc(chatId, effect.message)._id, seq: effect.message.seq,
              by: effect.message.sender, text: effect.message.body.text, at: new Date(effect.message.at).toISOString(),
            });
          }
          break;
        case 'labels.changed':
          if (listed) roomUpdate();
          break;
        case 'csat.asked':
          await deps.conversations?.csatAsked(chatId, effect.conversation, effect.at);
          break;
        case 'csat.rated':
          await deps.conversations?.rated(chatId, effect.conversation, { score: effect.score, at: effect.at });
          roomUpdate();
          break;
        case 'reply.requested':
          await deps.outbound.send({
            key: `chat:${chatId}:${effect.message.id}`,
            chatId,
            to: toWhatsApp(context.customer),
            // From the number the customer wrote to (its 24-hour window); FR-3's customer-type mapping for chats opened by an agent.
            sendType: channelById(effect.message.channel)?.sendType ?? agentReplySendType(context.customerType),
            message: replyMessage(effect.message.body),
            messageId: messageDoc(chatId, effect.message)._id as string,
          });
          break;
        case 'delivery.recorded': {
          // Statuses only move forward (a late `delivered` never hides `read`).
          await chats.recordDelivery(chatId, effect.waMessageId, { delivery_status: effect.status, delivery_updated_at: new Date(effect.at), ...(effect.error ? { delivery_error: effect.error } : {}) });
          await deps.outbound.recordDelivery?.({ waMessageId: effect.waMessageId, status: effect.status, at: effect.at, error: effect.error });
          const message = await chats.messageWithWaId(chatId, effect.waMessageId);
          deps.rooms.publish(chatId, 'message_status', {
            chat_id: chatId, ...(message ? { message_id: message._id } : {}), wa_message_id: effect.waMessageId, status: effect.status,
            at: new Date(effect.at).toISOString(), ...(effect.error ? { error: effect.error } : {}),
          });
          break;
        }
      }
    }
  };
}

function opens(status: string): boolean {
  return OPEN_STATUSES.includes(status);
}

/** The WhatsApp body of an agent message: one built by the console route (`extra.cloud`), a template (`extra.template`) or text. */
function replyMessage(body: MessageBody): CloudMessage {
  const cloud = body.extra?.cloud;
  if (cloud && typeof cloud === 'object') {
    assertCloudMessage(cloud as CloudMessage);
    return cloud as CloudMessage;
  }
  const t = body.extra?.template as { name?: unknown; language?: unknown; bodyParams?: unknown } | undefined;
  if (body.kind === 'template' && typeof t?.name === 'string') {
    return templateMessage(t.name, {
      ...(typeof t.language === 'string' ? { language: t.language } : {}),
      ...(Array.isArray(t.bodyParams) ? { bodyParams: t.bodyParams.map(String) } : {}),
    });
  }
  return textMessage(body.text);
}
