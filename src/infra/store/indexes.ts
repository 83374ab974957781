import type { IndexSpec } from './store.ts';

/**
 * Indexes created at start-up (spec §5), adapted to DESIGN.md §4: messages
 * live in their own collection, ordered per chat.
 */
export const INDEXES: readonly IndexSpec[] = [
  { collection: 'chats', name: 'status_customer_type', keys: { status: 1, customer_type: 1 } },
  { collection: 'chats', name: 'customer_unique', keys: { customer: 1 }, unique: true },
  { collection: 'chats', name: 'last_message_time', keys: { last_message_time: -1 } },
  { collection: 'messages', name: 'chat_seq_unique', keys: { chat_id: 1, seq: -1 }, unique: true },
  { collection: 'messages', name: 'chat_datetime', keys: { chat_id: 1, datetime: -1 } },
  { collection: 'messages', name: 'chat_idempotency', keys: { chat_id: 1, idempotency_id: 1 } },
  { collection: 'messages', name: 'chat_wa_message', keys: { chat_id: 1, wa_message_id: 1 } },
  { collection: 'inbox', name: 'state_received', keys: { state: 1, received_at: 1 } },
  { collection: 'socket_collection', name: 'pod', keys: { pod: 1 } },
  { collection: 'actor_snapshots', name: 'kind_deadline', keys: { kind: 1, deadline_at: 1 } },
  { collection: 'no_discount_log', name: 'sender_created', keys: { sender: 1, created_at: -1 } },
  { collection: 'users', name: 'mobile_unique', keys: { mobile: 1 }, unique: true, sparse: true },
  { collection: 'socket_collection', name: 'chat_id', keys: { chat_id: 1 } },
  // Outbound WhatsApp: the sweep's scans, delivery statuses by WhatsApp id, media chunks in order.
  { collection: 'outbox', name: 'state_created', keys: { state: 1, created_at: 1 } },
  { collection: 'outbox', name: 'state_claimed', keys: { state: 1, claimed_at: 1 } },
  { collection: 'outbox', name: 'wa_message', keys: { wa_message_id: 1 }, sparse: true },
  { collection: 'media_chunks', name: 'media_n', keys: { media_id: 1, n: 1 } },
];
