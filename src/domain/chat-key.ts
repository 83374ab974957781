/**
 * One chat per phone number per stakeholder type: a partner who also writes
 * to a customer number (the discount bot's, say) has two chats, one in each
 * list, never one whose type flips with the last channel used. The chat
 * actor's key says both, so the shard, the mailbox and the record follow.
 */
import { CUSTOMER_TYPES, type CustomerType } from './channels.ts';

/** The chat actor key of `customer` (stored number form) as a stakeholder of type `type`: `Partner:9876543210`. */
export function chatKey(customer: string, type: CustomerType): string {
  return `${type}:${customer}`;
}

/**
 * The number and type a chat key names. A bare number is a key from before
 * chats were per type (an event queued across an upgrade): it names that
 * number's Customer chat, the type every such chat was created with unless an
 * agent opened it otherwise.
 */
export function parseChatKey(key: string): { customer: string; customerType: CustomerType } {
  const colon = key.indexOf(':');
  if (colon < 0) return { customer: key, customerType: 'Customer' };
  const type = key.slice(0, colon);
  if (!(CUSTOMER_TYPES as readonly string[]).includes(type)) throw new Error(`chat key ${JSON.stringify(key.slice(0, 40))} has no stakeholder type`);
  return { customer: key.slice(colon + 1), customerType: type as CustomerType };
}
