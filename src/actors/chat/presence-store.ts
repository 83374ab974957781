/** Owns `socket_collection`: which agent socket, on which pod, has joined which chat's room (spec §5). */
import type { Collection, DocumentStore, IndexSpec } from '../../infra/store/store.ts';

const PRESENCE = 'socket_collection';

export const PRESENCE_INDEXES: readonly IndexSpec[] = [
  { collection: PRESENCE, name: 'pod', keys: { pod: 1 } },
  { collection: PRESENCE, name: 'chat_id', keys: { chat_id: 1 } },
];

export interface PresentSocket {
  /** The connection's id on its pod. */
  id: string;
  /** The agent (the token's `sub`). */
  user: string;
  pod: string;
}

export class PresenceStore {
  private readonly sockets: Collection;

  constructor(store: DocumentStore) {
    this.sockets = store.collection(PRESENCE);
  }

  /** Records (or refreshes) the socket's membership of `chatId`'s room. */
  async joined(chatId: string, socket: PresentSocket): Promise<void> {
    await this.sockets.updateOne(
      { _id: `${chatId}:${socket.id}` },
      { $set: { chat_id: chatId, user_id: socket.user, socket_id: socket.id, pod: socket.pod, last_updated: new Date() } },
      { upsert: true },
    );
  }

  /** The socket left `chatId`'s room (or closed). */
  async left(chatId: string, socketId: string): Promise<void> {
    await this.sockets.deleteOne({ _id: `${chatId}:${socketId}` });
  }

  /** The agents with a socket in `chatId`'s room (each once), for "also viewing" in the console. */
  async viewers(chatId: string): Promise<string[]> {
    const docs = await this.sockets.find({ chat_id: chatId }, { projection: { user_id: 1 }, limit: 200 });
    return [...new Set(docs.map((d) => String(d.user_id)))].sort();
  }

  /** Forgets every socket of `pod`: at its shutdown they are all closed. */
  async clearPod(pod: string): Promise<void> {
    await this.sockets.deleteMany({ pod });
  }
}
