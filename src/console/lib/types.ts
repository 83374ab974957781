/** The shapes the server sends (README "Agent WebSocket"; /api/asyncapi.json). */
export type CustomerType = 'Partner' | 'Customer' | 'Vendor' | 'SRDP';

export interface Chat {
  chat_id: string;
  customer: string;
  customer_name?: string | null;
  customer_type: CustomerType;
  channel?: string;
  /** `bot`: only the discount bot has talked with the customer (the Discount_Bot filter). */
  status: 'active' | 'resolved' | 'bot';
  last_msg_by?: string | null;
  last_message?: string | null;
  last_message_time: string | null;
  last_seq?: number;
  unseen_count?: number;
  status_updated_by?: string | null;
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
}

export interface Stats {
  active: number;
  resolved: number;
  pending: number;
}
