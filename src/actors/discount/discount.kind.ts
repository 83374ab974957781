import { discountMachine } from '../../machines/discount.machine.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import type { ActorKind } from '../runtime/actor-kind.ts';
import { DiscountStore } from './discount-store.ts';

export const DISCOUNT_SCHEMA = 1;

/** The discount actor kind: one per customer on the discount channel, its record a snapshot (`discount-store.ts`). */
export function discountKind(store: DocumentStore, opts: { idleTimeoutMs: number; execute: ActorKind['execute'] }): ActorKind {
  const snapshots = new DiscountStore(store);
  return {
    name: 'discount',
    machine: discountMachine,
    schema: DISCOUNT_SCHEMA,
    input: (key) => ({ customer: key, idleTimeoutMs: opts.idleTimeoutMs }),
    load: (key) => snapshots.loadRecord(key),
    save: (key, record, expected) => snapshots.saveRecord(key, record, expected),
    execute: opts.execute,
    dueKeys: (now, limit) => snapshots.dueKeys(now, limit),
  };
}
