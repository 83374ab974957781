/**
 * The WhatsApp channels of the spec (§3, FR-1, FR-7 table; CONTRACT.md) as
 * data: which webhook identifier belongs to which customer type, business
 * number and send type. Outbound URLs and keys live with the outbound client.
 */

export type CustomerType = 'Partner' | 'Customer' | 'Vendor' | 'SRDP';

export interface Channel {
  /** The `{channel}` of `POST /api/chats/whatsapp_chat/{channel}`. */
  id: string;
  customerType: CustomerType;
  /** The WhatsApp business number, with country code (e.g. `919638120888`). */
  businessNumber: string;
  /** The FR-7 send type used when this channel replies. */
  sendType: string;
  /** True when no human agent answers (the discount flow of FR-2). */
  automated: boolean;
}

const channel = (id: string, customerType: CustomerType, businessNumber: string, sendType: string, automated = false): Channel =>
  Object.freeze({ id, customerType, businessNumber, sendType, automated });

/** Every webhook channel, in the order of the contract. */
export const CHANNELS: readonly Channel[] = Object.freeze([
  channel('9638120888', 'Customer', '919638120888', 'discount', true),
  channel('9099039188', 'Partner', '919099039188', 'chat'),
  channel('8690247247', 'Partner', '918690247247', 'dco_new'),
  channel('8000247247', 'Customer', '919638106888', 'customer_chat_new'),
  channel('9726724247', 'Vendor', '919726724247', 'vendor_chat'),
  channel('9726524247', 'Vendor', '919726524247', 'vendor_alt'),
  channel('9586924247', 'SRDP', '919586924247', 'srdp_chat'),
  channel('9081812247', 'SRDP', '919081812247', 'srdp_alt'),
]);

/** The channel with this webhook identifier, or undefined for an unknown one. */
export function channelById(id: string): Channel | undefined {
  return CHANNELS.find((c) => c.id === id);
}

export const CUSTOMER_TYPES: readonly CustomerType[] = Object.freeze(['Partner', 'Customer', 'Vendor', 'SRDP'] as const);

const ROOM_UPDATE = {
  Partner: 'room_update',
  Customer: 'room_update_customer',
  Vendor: 'room_update_vendor',
  SRDP: 'room_update_srdp',
} as const satisfies Record<CustomerType, string>;

const AGENT_REPLY_SEND_TYPE: Record<CustomerType, string> = {
  Partner: 'chat',
  Customer: 'customer_chat_new',
  Vendor: 'vendor_chat',
  SRDP: 'srdp_chat',
};

/** FR-3: the dashboard push for a chat of this customer type */
export function roomUpdateEvent(t: CustomerType): 'room_update' | 'room_update_customer' | 'room_update_vendor' | 'room_update_srdp' {
  // Values from outside the type (stored documents, client frames) count as customers, like FR-3's "other".
  return Object.hasOwn(ROOM_UPDATE, t) ? ROOM_UPDATE[t] : ROOM_UPDATE.Customer;
}

/** FR-3: the send type an agent reply uses, by customer type (Partner→chat, SRDP→srdp_chat, Vendor→vendor_chat, other→customer_chat_new) */
export function agentReplySendType(t: CustomerType): string {
  return Object.hasOwn(AGENT_REPLY_SEND_TYPE, t) ? AGENT_REPLY_SEND_TYPE[t] : AGENT_REPLY_SEND_TYPE.Customer;
}
