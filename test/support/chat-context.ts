/** A chat actor's context as a test starts from: one customer on the customer channel, Asha, a few messages in. */
import { newInbox, type ChatContext } from '../../src/machines/chat.machine.ts';

export function chatContext(overrides: Partial<ChatContext> = {}): ChatContext {
  return {
    chatId: 'c1',
    customer: '9800000100',
    customerName: 'Asha',
    customerType: 'Customer',
    channel: '8000247247',
    createdAt: Date.UTC(2026, 11, 4, 10, 0, 0),
    lastSeq: 3,
    lastMessage: 'Need a cab',
    lastMessageAt: Date.UTC(2026, 11, 4, 10, 5, 0),
    lastMsgBy: '9800000100',
    lastCustomerMessageAt: Date.UTC(2026, 11, 4, 10, 5, 0),
    statusUpdatedBy: null,
    statusUpdatedAt: null,
    reads: [],
    botMessages: 0,
    inbox: { ...newInbox(), waitingSince: Date.UTC(2026, 11, 4, 10, 0, 0) },
    ...overrides,
  };
}
