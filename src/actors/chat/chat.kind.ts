import { parseChatKey } from '../../domain/chat-key.ts';
import { chatMachine, listingOf, withInboxDefaults, type ChatContext, type ChatEvent } from '../../machines/chat.machine.ts';
import { newId, type DocumentStore } from '../../infra/store/store.ts';
import type { ActorKind, ActorRecord } from '../runtime/actor-kind.ts';
import { ChatStore } from './chat-store.ts';
import { chatSummary, type Doc } from './chat-views.ts';

export const CHAT_SCHEMA = 1;

/**
 * The chat actor kind. Its record lives in its chat document, beside the
 * summary fields agents query, written together (`chat-store.ts`).
 */
export function chatKind(store: DocumentStore, execute: ActorKind['execute']): ActorKind {
  const chats = new ChatStore(store);
  /** The summary each record was saved with, so the next save's delta need not build it again (kept as long as its record). */
  const summaries = new WeakMap<ActorRecord, Doc>();
  const summaryOf = (r: ActorRecord) => chatSummary(r.state.context as ChatContext, listingOf(r.state.value), r);
  return {
    name: 'chat',
    machine: chatMachine,
    schema: CHAT_SCHEMA,
    input(key, event) {
      const e = event as unknown as ChatEvent;
      const opening = e.type === 'CUSTOMER_MESSAGE' || e.type === 'OPEN' || e.type === 'HANDOVER';
      // The key fixes the number and the type for the chat's life (one chat per number per stakeholder type).
      const { customer, customerType } = parseChatKey(key);
      return { chatId: newId(), customer, customerType, channel: opening ? e.channel : '', at: e.at };
    },
    // A record stored before the team inbox gets its fields' defaults (assignee, labels, …).
    load: async (key) => {
      const record = await chats.loadRecord(key);
      return record && { ...record, state: { ...record.state, context: withInboxDefaults(record.state.context as Partial<ChatContext>) } };
    },
    save(_key, record, expected, previous) {
      const next = summaryOf(record);
      const context = record.state.context as ChatContext;
      // In process there is no delta to write: keeping every resident chat's summary twice would only grow the old generation.
      if (!chats.deltas) return chats.saveRecord(context.chatId, next, record, expected);
      summaries.set(record, next);
      return chats.saveRecord(context.chatId, next, record, expected, previous && { summary: summaries.get(previous) ?? summaryOf(previous), record: previous });
    },
    execute,
    dueKeys: (now, limit) => chats.dueKeys(now, limit),
  };
}
