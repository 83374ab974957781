/** The shapes the server sends (README "Agent WebSocket"; /api/asyncapi.json). */
export type CustomerType = 'Partner' | 'Customer' | 'Vendor' | 'SRDP';

export interface Chat {
  chat_id: string;
  customer: string;
  customer_name?: string | null;
  customer_type: CustomerType;
  channel?: string;
  /** `bot`: only the discount bot has talked with the customer (the Discount_Bot filter); `pending`: waiting for the customer. */
  status: ChatStatus;
  /** The team inbox (absent on chats stored before it: defaults). */
  state?: string;
  assignee?: string | null;
  team?: string | null;
  assigned_at?: string | null;
  waiting_since?: string | null;
  snoozed_until?: string | null;
  labels?: string[];
  conversation?: number;
  csat?: Csat | null;
  last_msg_by?: string | null;
  last_message?: string | null;
  last_message_time: string | null;
  last_seq?: number;
  unseen_count?: number;
  status_updated_by?: string | null;
}

export type ChatStatus = 'active' | 'pending' | 'snoozed' | 'resolved' | 'bot';

/** The rating asked when a chat is resolved: 3 good, 2 okay, 1 poor. */
export interface Csat {
  status: 'asked' | 'rated' | 'expired';
  score: 1 | 2 | 3 | null;
  asked_at: string;
  rated_at: string | null;
  conversation: number;
}

export type Availability = 'online' | 'busy' | 'offline';

export interface AgentPresence {
  username: string;
  status: Availability;
  connected: boolean;
  open_chats: number;
  teams: string[];
}

export interface InboxCounts {
  mine: number;
  unassigned: number;
  all: number;
}

export interface Message {
  _id: string;
  chat_id: string;
  seq: number;
  sender: string;
  type: string;
  message: string;
  message_type: string;
  channel: string;
  datetime: string | null;
  wa_message_id?: string;
  media_type?: string;
  media?: { type?: string; id?: string; mimeType?: string; caption?: string; filename?: string };
  mediaUrl?: string;
  media_status?: string;
  extra?: Record<string, any>;
  outbound_status?: string;
  delivery_status?: string;
  outbound_error?: { code?: string; message?: string };
  /** A private note (never sent to WhatsApp): `message_type` `note`. */
  private?: boolean;
  mentions?: string[];
}

export interface Stats {
  active: number;
  resolved: number;
  pending: number;
  snoozed?: number;
}
