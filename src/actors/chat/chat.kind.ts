import { chatMachine, type ChatContext, type ChatEvent, type CustomerType } from '../../machines/chat.machine.ts';
import { isDuplicateKey, newId, type DocumentStore } from '../../infra/store/store.ts';
import type { ActorKind, ActorRecord } from '../runtime/actor-kind.ts';
import { chatSummary } from './chat-views.ts';

export const CHAT_SCHEMA = 1;

/** The save condition that refuses a writer whose fencing token is older than the stored one. */
export function notFencedOut(record: ActorRecord, path: string): Record<string, unknown> {
  return { $or: [{ [path]: { $exists: false } }, { [path]: { $lte: record.fence ?? 0 } }] };
}

/**
 * Chat actors live in the `chats` collection: one document per customer with
 * the summary fields agents query and, beside them, the actor record. Both are
 * written in one conditional update, so they never disagree.
 */
export function chatKind(store: DocumentStore, execute: ActorKind['execute']): ActorKind {
  const chats = store.collection('chats');
  return {
    name: 'chat',
    machine: chatMachine,
    schema: CHAT_SCHEMA,
    input(key, event) {
      const e = event as unknown as ChatEvent;
      const opening = e.type === 'CUSTOMER_MESSAGE' || e.type === 'OPEN';
      return {
        chatId: newId(),
        customer: key,
        customerType: (opening ? e.customerType : 'Customer') as CustomerType,
        channel: opening ? e.channel : '',
        at: e.at,
      };
    },
    async load(key) {
      const doc = await chats.findOne({ customer: key }, { projection: { actor: 1 } });
      return (doc?.actor as ActorRecord | undefined) ?? null;
    },
    async save(_key, record, expected) {
      const context = record.state.context as ChatContext;
      const fields = { ...chatSummary(context, String(record.state.value)), actor: record };
      if (expected === 0) {
        try {
          await chats.insertOne({ _id: context.chatId, ...fields });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      }
      const r = await chats.updateOne({ _id: context.chatId, 'actor.version': expected, ...notFencedOut(record, 'actor.fence') }, { $set: fields });
      return r.matched === 1;
    },
    execute,
  };
}
