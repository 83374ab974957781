/**
 * One suite, every document-store driver: the memory driver and MongoDB (the
 * wire-protocol test server) must answer the same operations the same way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StoreError, type DocumentStore } from '../../src/infra/store/store.ts';

export function storeContract(driver: string, open: () => Promise<DocumentStore>): void {
  describe(`document store contract: ${driver}`, () => {
    let store: DocumentStore;
    let n = 0;
    /** A fresh collection name per test, so tests never see each other's documents. */
    const fresh = () => store.collection(`c${++n}`);

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.dropAll();
      await store.close();
    });

    it('inserts with a generated string id and finds the document back with its dates', async () => {
      const c = fresh();
      const at = new Date('2026-01-02T03:04:05.678Z');
      const id = await c.insertOne({ customer: '9876543210', at, tags: ['a'] });
      assert.match(id, /^[0-9a-f]{24}$/);
      const doc = await c.findOne({ _id: id });
      assert.deepEqual(doc, { _id: id, customer: '9876543210', at, tags: ['a'] });
      assert.ok(doc?.at instanceof Date);
    });

    it('returns copies: changing a found document does not change the stored one', async () => {
      const c = fresh();
      const id = await c.insertOne({ n: 1, nested: { x: 1 } });
      const doc = (await c.findOne({ _id: id }))!;
      (doc.nested as { x: number }).x = 99;
      assert.deepEqual((await c.findOne({ _id: id }))?.nested, { x: 1 });
    });

    it('finds with filter, sort, skip, limit and projection, and counts', async () => {
      const c = fresh();
      for (let i = 0; i < 10; i++) await c.insertOne({ _id: `id${i}`, i, even: i % 2 === 0, name: `Name ${i}` });
      const page = await c.find({ even: true }, { sort: { i: -1 }, skip: 1, limit: 2, projection: { i: 1 } });
      assert.deepEqual(page, [{ _id: 'id6', i: 6 }, { _id: 'id4', i: 4 }]);
      assert.equal(await c.countDocuments({ even: false }), 5);
      assert.equal(await c.countDocuments(), 10);
      assert.deepEqual((await c.find({ name: { $regex: 'name 3', $options: 'i' } })).map((d) => d._id), ['id3']);
      assert.deepEqual((await c.find({ i: { $in: [1, 2] } }, { sort: { i: 1 } })).map((d) => d.i), [1, 2]);
    });

    it('answers a missing key with null, zero matches and zero deletions', async () => {
      const c = fresh();
      assert.equal(await c.findOne({ _id: 'nope' }), null);
      assert.deepEqual(await c.updateOne({ _id: 'nope' }, { $set: { a: 1 } }), { matched: 0, modified: 0 });
      assert.equal(await c.findOneAndUpdate({ _id: 'nope' }, { $set: { a: 1 } }), null);
      assert.equal(await c.deleteOne({ _id: 'nope' }), 0);
      assert.deepEqual(await c.find({ a: 1 }), []);
    });

    it('updates with $set, $inc and $max, reporting matched and modified', async () => {
      const c = fresh();
      const id = await c.insertOne({ count: 1, best: 5 });
      assert.deepEqual(await c.updateOne({ _id: id }, { $inc: { count: 2 }, $set: { label: 'x' }, $max: { best: 3 } }), { matched: 1, modified: 1 });
      assert.deepEqual(await c.findOne({ _id: id }), { _id: id, count: 3, best: 5, label: 'x' });
      assert.deepEqual(await c.updateOne({ _id: id }, { $set: { label: 'x' } }), { matched: 1, modified: 0 });
      assert.deepEqual(await c.updateMany({ count: { $gte: 0 } }, { $inc: { count: 1 } }), { matched: 1, modified: 1 });
    });

    it('upserts from the filter and $setOnInsert, applying $setOnInsert only on insert', async () => {
      const c = fresh();
      const first = await c.updateOne({ customer: '9000000001' }, { $set: { status: 'active' }, $setOnInsert: { created: 1 } }, { upsert: true });
      assert.equal(first.matched, 0);
      assert.match(first.upsertedId ?? '', /^[0-9a-f]{24}$/);
      await c.updateOne({ customer: '9000000001' }, { $set: { status: 'resolved' }, $setOnInsert: { created: 2 } }, { upsert: true });
      const docs = await c.find({ customer: '9000000001' });
      assert.equal(docs.length, 1);
      assert.deepEqual({ ...docs[0], _id: 'x' }, { _id: 'x', customer: '9000000001', status: 'resolved', created: 1 });
    });

    it('an upsert builds the new document from the filter equalities and every operator, dotted paths and dates included', async () => {
      const c = fresh();
      const at = new Date('2026-03-04T05:06:07.000Z');
      const made = await c.updateOne(
        { _id: 'k1', kind: { $eq: 'x' }, n: { $gt: 1 } },
        { $set: { 'a.b': 1, at }, $inc: { count: 2 }, $push: { log: { $each: ['p', 'q'], $slice: -1 } }, $setOnInsert: { nested: { deep: [1, { e: 'f' }] } } },
        { upsert: true },
      );
      assert.deepEqual(made, { matched: 0, modified: 0, upsertedId: 'k1' });
      assert.deepEqual(await c.findOne({ _id: 'k1' }), { _id: 'k1', kind: 'x', a: { b: 1 }, at, count: 2, log: ['q'], nested: { deep: [1, { e: 'f' }] } });
      // The document stored owns its values: changing what the caller passed changes nothing stored.
      const set = { tags: ['t'] };
      await c.updateOne({ _id: 'k2' }, { $set: set }, { upsert: true });
      set.tags.push('changed');
      assert.deepEqual(await c.findOne({ _id: 'k2' }), { _id: 'k2', tags: ['t'] });
    });

    it('findOneAndUpdate returns the document before or after, and upserts', async () => {
      const c = fresh();
      const id = await c.insertOne({ seq: 1 });
      assert.deepEqual(await c.findOneAndUpdate({ _id: id }, { $inc: { seq: 1 } }), { _id: id, seq: 1 });
      assert.deepEqual(await c.findOneAndUpdate({ _id: id }, { $inc: { seq: 1 } }, { returnDocument: 'after' }), { _id: id, seq: 3 });
      const made = await c.findOneAndUpdate({ _id: 'counter' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
      assert.deepEqual(made, { _id: 'counter', seq: 1 });
    });

    it('refuses a duplicate on a unique index, on insert and on update, leaving data unchanged', async () => {
      const name = `u${++n}`;
      await store.ensureIndexes([{ collection: name, name: 'customer_unique', keys: { customer: 1 }, unique: true }]);
      const c = store.collection(name);
      await c.insertOne({ _id: 'a', customer: '1' });
      const b = await c.insertOne({ _id: 'b', customer: '2' });
      await assert.rejects(c.insertOne({ customer: '1' }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
      await assert.rejects(c.updateOne({ _id: b }, { $set: { customer: '1' } }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
      assert.deepEqual(await c.findOne({ _id: 'b' }), { _id: 'b', customer: '2' });
      await assert.rejects(c.insertOne({ _id: 'a', customer: '3' }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
      assert.equal(await c.countDocuments(), 2);
    });

    it('drops an index an earlier version made (its rule stops), and dropping one that is not there is no error', async () => {
      const name = `u${++n}`;
      await store.dropIndexes([{ collection: name, name: 'customer_unique' }]); // no collection yet
      await store.ensureIndexes([
        { collection: name, name: 'customer_unique', keys: { customer: 1 }, unique: true },
        { collection: name, name: 'customer_type_unique', keys: { customer: 1, customer_type: 1 }, unique: true },
      ]);
      const c = store.collection(name);
      await c.insertOne({ _id: 'a', customer: '1', customer_type: 'Partner' });
      await assert.rejects(c.insertOne({ _id: 'b', customer: '1', customer_type: 'Customer' }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
      await store.dropIndexes([{ collection: name, name: 'customer_unique' }, { collection: name, name: 'never_made' }]);
      await c.insertOne({ _id: 'b', customer: '1', customer_type: 'Customer' });
      await assert.rejects(c.insertOne({ _id: 'c', customer: '1', customer_type: 'Customer' }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
      assert.equal(await c.countDocuments({ customer: '1' }), 2);
    });

    it('tells each of many concurrent inserts its own outcome: duplicates fail alone, the rest are stored', async () => {
      const name = `u${++n}`;
      await store.ensureIndexes([{ collection: name, name: 'customer_unique', keys: { customer: 1 }, unique: true }]);
      const c = store.collection(name);
      await c.insertOne({ _id: 'taken', customer: 'x' });
      // Issued in one turn (the MongoDB driver sends them as one batch): every third repeats an _id or a customer.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => c.insertOne(i % 3 === 0 ? (i % 2 ? { _id: 'taken', customer: `c${i}` } : { _id: `d${i}`, customer: 'x' }) : { _id: `d${i}`, customer: `c${i}`, i })),
      );
      outcomes.forEach((o, i) => {
        if (i % 3 === 0) assert.ok(o.status === 'rejected' && o.reason instanceof StoreError && o.reason.kind === 'duplicate_key', `insert ${i} is a duplicate`);
        else assert.deepEqual(o, { status: 'fulfilled', value: `d${i}` }, `insert ${i} is stored`);
      });
      assert.equal(await c.countDocuments(), 21);
      assert.deepEqual(await c.findOne({ _id: 'd4' }), { _id: 'd4', customer: 'c4', i: 4 });
    });

    it('tells each of many grouped conditional updates of one turn its own outcome, and applies two of one document in order', async () => {
      const c = fresh();
      for (let i = 0; i < 30; i++) await c.insertOne({ _id: `g${i}`, v: 1, tag: 'old' });
      // Issued in one turn (the MongoDB driver writes them as one bulkWrite): every third has a stale version.
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => c.updateOne({ _id: `g${i}`, v: i % 3 === 0 ? 7 : 1 }, { $set: { v: 2, tag: `new${i}`, at: new Date(1000 + i), nested: { i, list: [i, 'x'] } } }, { grouped: true })),
      );
      outcomes.forEach((o, i) => assert.deepEqual(o, i % 3 === 0 ? { matched: 0, modified: 0 } : { matched: 1, modified: 1 }, `update ${i}`));
      assert.deepEqual(await c.findOne({ _id: 'g3' }), { _id: 'g3', v: 1, tag: 'old' });
      assert.deepEqual(await c.findOne({ _id: 'g4' }), { _id: 'g4', v: 2, tag: 'new4', at: new Date(1004), nested: { i: 4, list: [4, 'x'] } });
      // All stale, all current: the group's count alone tells each.
      assert.deepEqual(await Promise.all([0, 3, 6].map((i) => c.updateOne({ _id: `g${i}`, v: 9 }, { $set: { v: 3 } }, { grouped: true }))), [0, 0, 0].map(() => ({ matched: 0, modified: 0 })));
      assert.deepEqual(await Promise.all([1, 2, 4].map((i) => c.updateOne({ _id: `g${i}`, v: 2 }, { $set: { v: 3 } }, { grouped: true }))), [0, 0, 0].map(() => ({ matched: 1, modified: 1 })));
      // Two of one document in one turn: the second sees the first's write.
      const [first, second] = await Promise.all([
        c.updateOne({ _id: 'g5', v: 2 }, { $set: { v: 3 } }, { grouped: true }),
        c.updateOne({ _id: 'g5', v: 3 }, { $set: { v: 4 } }, { grouped: true }),
      ]);
      assert.deepEqual([first, second], [{ matched: 1, modified: 1 }, { matched: 1, modified: 1 }]);
      assert.equal((await c.findOne({ _id: 'g5' }))?.v, 4);
    });

    it('appends with a grouped $push beside its $set, keeping the window $slice asks for, and reads its outcome from the $set', async () => {
      const c = fresh();
      for (let i = 0; i < 6; i++) await c.insertOne({ _id: `w${i}`, v: 1, actor: { applied: ['a', 'b', 'c'], state: { context: { n: 1, keep: 'k' } } } });
      // One turn, as actor saves are grouped: a stale version (w0) changes nothing, even with an ambiguous match count.
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          c.updateOne({ _id: `w${i}`, v: i === 0 ? 9 : 1 }, { $set: { v: 2, 'actor.state.context.n': i }, $push: { 'actor.applied': { $each: ['d'], $slice: -3 }, 'actor.history': { $each: [{ i }], $slice: -2 } } }, { grouped: true }),
        ),
      );
      outcomes.forEach((o, i) => assert.deepEqual(o, i === 0 ? { matched: 0, modified: 0 } : { matched: 1, modified: 1 }, `update ${i}`));
      assert.deepEqual(await c.findOne({ _id: 'w0' }), { _id: 'w0', v: 1, actor: { applied: ['a', 'b', 'c'], state: { context: { n: 1, keep: 'k' } } } });
      assert.deepEqual(await c.findOne({ _id: 'w4' }), { _id: 'w4', v: 2, actor: { applied: ['b', 'c', 'd'], state: { context: { n: 4, keep: 'k' } }, history: [{ i: 4 }] } });
      // MongoDB's $slice: 0 empties the array; a positive one keeps the first items.
      await c.updateOne({ _id: 'w5' }, { $push: { 'actor.applied': { $each: ['e'], $slice: 0 }, list: { $each: [1, 2, 3], $slice: 2 } } });
      const w5 = await c.findOne({ _id: 'w5' });
      assert.deepEqual([(w5?.actor as { applied: unknown }).applied, w5?.list], [[], [1, 2]]);
    });

    it('applies every condition of a filter that names an _id or a unique field', async () => {
      const name = `p${++n}`;
      await store.ensureIndexes([{ collection: name, name: 'customer_unique', keys: { customer: 1 }, unique: true }]);
      const c = store.collection(name);
      await c.insertOne({ _id: 'a', customer: '1', v: 1 });
      assert.equal(await c.findOne({ customer: '1', v: 2 }), null);
      assert.equal((await c.findOne({ customer: '1', v: 1 }))?._id, 'a');
      assert.equal(await c.findOne({ customer: '2' }), null);
      assert.deepEqual(await c.updateOne({ _id: 'a', v: 2 }, { $set: { v: 3 } }), { matched: 0, modified: 0 });
      assert.deepEqual(await c.updateOne({ _id: 'a', v: 1, $or: [{ w: { $exists: false } }, { w: { $lte: 5 } }] }, { $set: { v: 2 } }), { matched: 1, modified: 1 });
      assert.equal((await c.findOne({ customer: '1' }))?.v, 2);
    });

    it('lets a sparse unique index hold many documents without the field', async () => {
      const name = `s${++n}`;
      await store.ensureIndexes([{ collection: name, name: 'mobile_unique', keys: { mobile: 1 }, unique: true, sparse: true }]);
      const c = store.collection(name);
      await c.insertOne({ other: 1 });
      await c.insertOne({ other: 2 });
      await c.insertOne({ mobile: '9' });
      await assert.rejects(c.insertOne({ mobile: '9' }), (e: unknown) => e instanceof StoreError && e.kind === 'duplicate_key');
    });

    it('deletes one or many', async () => {
      const c = fresh();
      for (let i = 0; i < 5; i++) await c.insertOne({ i });
      assert.equal(await c.deleteOne({ i: { $gte: 3 } }), 1);
      assert.equal(await c.deleteMany({ i: { $lt: 2 } }), 2);
      assert.equal(await c.countDocuments(), 2);
    });

    it('aggregates with $lookup, $unwind, $addFields, $filter, $size, $facet and $count', async () => {
      const chats = fresh();
      const users = fresh();
      await users.insertOne({ mobile: '1', dco_status: 'Active' });
      await chats.insertOne({ _id: 'c1', customer: '1', reads: [1, 5, 7] });
      await chats.insertOne({ _id: 'c2', customer: '2', reads: [] });
      const usersName = `c${n}`;
      const [result] = await chats.aggregate<{ total: { n: number }[]; rows: Record<string, unknown>[] }>([
        { $lookup: { from: usersName, localField: 'customer', foreignField: 'mobile', as: 'user' } },
        { $unwind: { path: '$user', preserveNullAndEmptyArrays: true } },
        { $addFields: { late: { $size: { $filter: { input: '$reads', as: 'r', cond: { $gt: ['$$r', 2] } } } } } },
        { $sort: { _id: 1 } },
        { $facet: { total: [{ $count: 'n' }], rows: [{ $project: { _id: 1, late: 1, status: '$user.dco_status' } }] } },
      ]);
      assert.deepEqual(result, { total: [{ n: 2 }], rows: [{ _id: 'c1', late: 2, status: 'Active' }, { _id: 'c2', late: 0 }] });
    });

    it('rejects a malformed filter, update or pipeline with a bad_query error', async () => {
      const c = fresh();
      await c.insertOne({ a: 1 });
      const badQuery = (e: unknown) => e instanceof StoreError && e.kind === 'bad_query';
      await assert.rejects(c.find({ a: { $bogus: 1 } }), badQuery);
      await assert.rejects(c.updateOne({ a: 1 }, { $bogus: { a: 2 } }), badQuery);
      await assert.rejects(c.aggregate([{ $bogusStage: {} }]), badQuery);
      await assert.rejects(c.updateOne({ a: 1 }, { $inc: { a: 'x' } }), badQuery);
    });
  });

  describe(`document store contract: ${driver}, once closed`, () => {
    it('rejects every operation with a closed error instead of hanging', async () => {
      const store = await open();
      await store.collection('x').insertOne({ a: 1 });
      await store.dropAll();
      await store.close();
      await assert.rejects(store.collection('x').find({}), (e: unknown) => e instanceof StoreError && e.kind === 'closed');
      await assert.rejects(store.ping(500), (e: unknown) => e instanceof StoreError && e.kind === 'closed');
    });
  });
}
