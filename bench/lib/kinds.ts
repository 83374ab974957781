/**
 * Chat actor kinds for driving `ActorHost` directly: the real chat machine
 * and record shape, over a plain Map (what the host and machine cost on their
 * own), or over the product's stores via `chatKind` (what a store adds).
 * Effects are a no-op: pushes and message documents are other scenarios' business.
 */
import type { ActorEvent, ActorKind } from '../../src/actors/runtime/actor-kind.ts';
import { chatKind } from '../../src/actors/chat/chat.kind.ts';
import type { DocumentStore } from '../../src/infra/store/store.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

const noEffects: ActorKind['execute'] = async () => undefined;

/** Serialised actor records by key, with their versions beside them (what a database would hold). */
export class MapRecords {
  readonly json = new Map<string, string>();
  readonly versions = new Map<string, number>();

  clear(): void {
    this.json.clear();
    this.versions.clear();
  }
}

/** The chat kind over a Map of serialised records: load parses, save serialises, as a database round trip would. */
export function mapChatKind(store: MapRecords): ActorKind {
  const real = chatKind(new MemoryStore(), noEffects);
  const { json: records, versions } = store;
  return {
    ...real,
    async load(key) {
      const json = records.get(key);
      return json === undefined ? null : JSON.parse(json);
    },
    async save(key, record, expected) {
      if ((versions.get(key) ?? 0) !== expected) return false;
      records.set(key, JSON.stringify(record));
      versions.set(key, record.version);
      return true;
    },
    execute: noEffects,
  };
}

/** The product's chat kind over a document store, effects skipped. */
export const storeChatKind = (store: DocumentStore): ActorKind => chatKind(store, noEffects);

let seq = 0;

/** A customer message, as the inbox would deliver it. */
export function customerMessage(at = Date.now()): ActorEvent {
  return {
    type: 'CUSTOMER_MESSAGE',
    id: `msg:bench.${++seq}`,
    at,
    channel: '8000247247',
    customerType: 'Customer',
    name: 'Bench Customer',
    body: { kind: 'text', text: 'Need a cab from Ahmedabad to Rajkot tomorrow at 7', waMessageId: `wamid.bench.${seq}` },
  } as ActorEvent;
}

/** An agent opening the chat (marks it read). */
export function readEvent(agent = 'bench-agent'): ActorEvent {
  return { type: 'READ', id: `read:bench.${++seq}`, at: Date.now(), agent } as ActorEvent;
}
