/**
 * A prototype of the MemoryStore fix suggested in BENCHMARKS.md, kept in
 * bench/ (src/ is not ours to change) so its effect can be measured: lookups
 * whose filter names a string `_id` go to that one document and test the rest
 * of the filter on it, and `findOne({customer})` on `chats` uses a
 * customer → _id map (as the `customer_unique` index would), instead of mingo
 * scanning every document. Only what `chatKind` uses is covered; it is a
 * measuring device, not a store.
 */
import { Query } from 'mingo';
import type { Collection, Doc, DocumentStore, Filter, FindOptions, Update, UpdateOptions } from '../../src/infra/store/store.ts';

export function withPointLookups(store: DocumentStore): DocumentStore {
  const wrapped = new Map<string, Collection>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver);
      return (name: string) => {
        let c = wrapped.get(name);
        if (!c) {
          c = pointLookups(target.collection(name), name === 'chats' ? 'customer' : undefined);
          wrapped.set(name, c);
        }
        return c;
      };
    },
  });
}

function pointLookups(inner: Collection, uniqueField: string | undefined): Collection {
  const byUnique = new Map<string, string>();
  const rest = (filter: Filter) => {
    const { _id: _ignored, ...others } = filter;
    return others;
  };
  const matchesById = async (filter: Filter): Promise<Doc | null> => {
    const doc = await inner.findOne({ _id: filter._id });
    return doc && new Query(rest(filter)).test(doc) ? doc : null;
  };
  return {
    ...inner,
    insertOne: async (doc) => {
      const id = await inner.insertOne(doc);
      const key = uniqueField ? doc[uniqueField] : undefined;
      if (typeof key === 'string') byUnique.set(key, id);
      return id;
    },
    findOne: async (filter: Filter, options?: FindOptions) => {
      const key = uniqueField ? filter[uniqueField] : undefined;
      if (typeof key === 'string' && Object.keys(filter).length === 1) {
        const id = byUnique.get(key);
        return id === undefined ? null : inner.findOne({ _id: id }, options);
      }
      if (typeof filter._id === 'string' && Object.keys(filter).length > 1) return (await matchesById(filter)) && inner.findOne({ _id: filter._id }, options);
      return inner.findOne(filter, options);
    },
    updateOne: async (filter: Filter, update: Update, options?: UpdateOptions) => {
      if (typeof filter._id === 'string' && Object.keys(filter).length > 1 && !options?.upsert) {
        if (!(await matchesById(filter))) return { matched: 0, modified: 0 };
        return inner.updateOne({ _id: filter._id }, update);
      }
      return inner.updateOne(filter, update, options);
    },
    find: (f, o) => inner.find(f, o),
    countDocuments: (f) => inner.countDocuments(f),
    updateMany: (f, u) => inner.updateMany(f, u),
    findOneAndUpdate: (f, u, o) => inner.findOneAndUpdate(f, u, o),
    deleteOne: (f) => inner.deleteOne(f),
    deleteMany: (f) => inner.deleteMany(f),
    aggregate: (p) => inner.aggregate(p),
  };
}
