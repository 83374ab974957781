import { discountMachine } from '../../machines/discount.machine.ts';
import { isDuplicateKey, type DocumentStore } from '../../infra/store/store.ts';
import type { ActorKind, ActorRecord } from '../runtime/actor-kind.ts';
import { notFencedOut } from '../chat/chat.kind.ts';

export const DISCOUNT_SCHEMA = 1;

/**
 * Discount actors live in `actor_snapshots` (`_id: discount:<customer>`),
 * with the earliest deadline beside the record so a poll can wake actors
 * whose idle timeout fell due while they were passivated or the pod was down.
 */
export function discountKind(store: DocumentStore, opts: { idleTimeoutMs: number; execute: ActorKind['execute'] }): ActorKind {
  const snapshots = store.collection('actor_snapshots');
  const id = (key: string) => `discount:${key}`;
  return {
    name: 'discount',
    machine: discountMachine,
    schema: DISCOUNT_SCHEMA,
    input: (key) => ({ customer: key, idleTimeoutMs: opts.idleTimeoutMs }),
    async load(key) {
      const doc = await snapshots.findOne({ _id: id(key) });
      return (doc?.record as ActorRecord | undefined) ?? null;
    },
    async save(key, record, expected) {
      const due = record.deadlines.length ? Math.min(...record.deadlines.map((d) => d.due)) : null;
      const fields = { kind: 'discount', key, record, version: record.version, deadline_at: due === null ? null : new Date(due), updated_at: new Date() };
      if (expected === 0) {
        try {
          await snapshots.insertOne({ _id: id(key), ...fields });
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      }
      return (await snapshots.updateOne({ _id: id(key), version: expected, ...notFencedOut(record, 'record.fence') }, { $set: fields })).matched === 1;
    },
    execute: opts.execute,
    async dueKeys(now, limit) {
      const due = await snapshots.find({ kind: 'discount', deadline_at: { $lte: new Date(now) } }, { limit, projection: { key: 1 } });
      return due.map((d) => String(d.key));
    },
  };
}
