/**
 * The MongoDB test server (test/mongo-server, IndexedMemoryCollection) narrows a filter by an index
 * when the filter pins that index's key by equality next to other conditions, as MongoDB does;
 * mongo-java-server alone scans every document then (it uses a unique index only when the filter has
 * exactly the index's fields, and ignores non-unique indexes). Results must equal a scan's: the
 * unique-index cases are checked against documents computed here and against the same filter written
 * so that the server scans (`_id: {$in: [x]}`); the non-unique ones against a twin collection
 * without the index. Two timed cases show the lookups no longer scan 50,000 documents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Double, MongoClient, type Db, type Document, type Filter } from 'mongodb';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const DOCS = 50_000;
const TIMED_UPDATES = 200;

interface Actor {
  _id: string;
  n: number;
  kind: string;
  actor: { version: number; fence?: number };
}

function actorDoc(n: number): Actor {
  // every third record has no fence; the rest alternate between a passing and a failing one
  const fence = n % 3 === 0 ? undefined : n % 3 === 1 ? 2 : 9;
  return { _id: `a${n}`, n, kind: n % 2 === 0 ? 'even' : 'odd', actor: { version: 1, ...(fence === undefined ? {} : { fence }) } };
}

const fenceOk = (max: number): Document => ({ $or: [{ 'actor.fence': { $exists: false } }, { 'actor.fence': { $lte: max } }] });

describe('mongo test server: index use with further conditions', () => {
  let client: MongoClient;
  let db: Db;

  before(async () => {
    client = await MongoClient.connect(testMongoUrl());
    db = client.db(uniqueName('mongoidx'));
    const actors = db.collection<Actor>('actors');
    for (let start = 0; start < DOCS; start += 5_000) {
      await actors.insertMany(Array.from({ length: Math.min(5_000, DOCS - start) }, (_, i) => actorDoc(start + i)));
    }
  });

  after(async () => {
    await db?.dropDatabase().catch(() => {});
    await client?.close();
  });

  it('updates by _id plus version and an $or fence: exactly the one matching record', async () => {
    const actors = db.collection<Actor>('actors');
    const ok = await actors.updateOne({ _id: 'a1', 'actor.version': 1, ...fenceOk(5) }, { $set: { 'actor.version': 2 } });
    assert.equal(ok.matchedCount, 1);
    assert.equal(ok.modifiedCount, 1);
    assert.deepEqual(await actors.findOne({ _id: 'a1' }), { ...actorDoc(1), actor: { version: 2, fence: 2 } });

    const noFence = await actors.updateOne({ _id: 'a3', 'actor.version': 1, ...fenceOk(5) }, { $set: { 'actor.version': 2 } });
    assert.equal(noFence.modifiedCount, 1, 'the $exists:false branch of the $or');

    const staleVersion = await actors.updateOne({ _id: 'a1', 'actor.version': 1, ...fenceOk(5) }, { $set: { 'actor.version': 3 } });
    assert.equal(staleVersion.matchedCount, 0);
    const fenced = await actors.updateOne({ _id: 'a2', 'actor.version': 1, ...fenceOk(5) }, { $set: { 'actor.version': 3 } });
    assert.equal(fenced.matchedCount, 0, 'fence 9 fails both $or branches');
    const missing = await actors.updateOne({ _id: 'nope', 'actor.version': 1 }, { $set: { 'actor.version': 3 } });
    assert.equal(missing.matchedCount, 0);
    assert.deepEqual(await actors.findOne({ _id: 'a2' }), actorDoc(2));
    assert.equal(await actors.countDocuments({ 'actor.version': 2 }), 2);
    assert.equal(await actors.countDocuments({ 'actor.version': 3 }), 0);
  });

  it('finds by _id plus other fields exactly as a scan does', async () => {
    const actors = db.collection<Actor>('actors');
    const cases: [Document, string[]][] = [
      [{ kind: 'even', n: { $gte: 10 } }, ['a10']],
      [{ kind: 'odd' }, []],
      [{ ...fenceOk(5) }, ['a10']],
      [{ ...fenceOk(1) }, []],
      [{ $nor: [{ kind: 'even' }] }, []],
      [{ n: 10, 'actor.version': { $in: [1, 7] } }, ['a10']],
    ];
    for (const [rest, expected] of cases) {
      const viaIndex = await actors.find({ _id: 'a10', ...rest }).toArray();
      const viaScan = await actors.find({ _id: { $in: ['a10'] }, ...rest }).toArray();
      assert.deepEqual(viaIndex.map((d) => d._id), expected, JSON.stringify(rest));
      assert.deepEqual(viaIndex, viaScan, JSON.stringify(rest));
    }
    // a10 has fence 2, a11 fence 9, a12 none
    assert.deepEqual((await actors.find({ _id: 'a11', ...fenceOk(5) }).toArray()).length, 0);
    assert.deepEqual((await actors.find({ _id: 'a11', ...fenceOk(9) }, { projection: { n: 1 } }).toArray()), [{ _id: 'a11', n: 11 }]);
    assert.deepEqual((await actors.find({ _id: 'a12', ...fenceOk(0) }, { projection: { n: 1 } }).toArray()), [{ _id: 'a12', n: 12 }]);
  });

  it('uses _id from {$eq} and from a top-level $and, and still serves $in and operators on _id', async () => {
    const actors = db.collection<Actor>('actors');
    assert.deepEqual((await actors.find({ _id: { $eq: 'a20' }, kind: 'even' }).toArray()).map((d) => d.n), [20]);
    assert.deepEqual((await actors.find({ $and: [{ _id: 'a20' }, { n: { $lt: 100 } }] }).toArray()).map((d) => d.n), [20]);
    assert.deepEqual((await actors.find({ $and: [{ _id: 'a20' }, { n: { $gt: 100 } }] }).toArray()).length, 0);
    assert.deepEqual((await actors.find({ _id: 'a20', $and: [{ _id: 'a21' }] }).toArray()).length, 0, 'contradictory equalities');
    assert.deepEqual((await actors.find({ _id: { $in: ['a5', 'a6', 'zz'] } }).toArray()).map((d) => d.n).sort((a, b) => a - b), [5, 6]);
    assert.deepEqual((await actors.find({ _id: { $in: ['a5', 'a6'] }, kind: 'odd' }).toArray()).map((d) => d.n), [5]);
    assert.deepEqual((await actors.find({ _id: { $gte: 'a49997', $lte: 'a49999' }, kind: 'odd' }).toArray()).map((d) => d.n).sort(), [49997, 49999]);
    assert.deepEqual((await actors.find({ _id: { $regex: '^a4999[0-1]$' }, n: { $gt: 0 } }).toArray()).map((d) => d.n).sort(), [49990, 49991]);
    assert.equal(await actors.countDocuments({ _id: 'a30', kind: 'even' }), 1);
    assert.equal(await actors.countDocuments({ _id: 'a30', kind: 'odd' }), 0);
  });

  it('deletes, upserts and findOneAndUpdates by _id plus conditions', async () => {
    const actors = db.collection<Actor>('actors');
    assert.equal((await actors.deleteOne({ _id: 'a40', kind: 'odd' })).deletedCount, 0);
    assert.equal((await actors.deleteOne({ _id: 'a40', kind: 'even' })).deletedCount, 1);
    assert.equal(await actors.findOne({ _id: 'a40' }), null);
    const up = await actors.updateOne({ _id: 'a40', kind: 'even' }, { $set: { n: 40, actor: { version: 5 } } }, { upsert: true });
    assert.equal(up.upsertedId, 'a40');
    assert.deepEqual(await actors.findOne({ _id: 'a40' }), { _id: 'a40', kind: 'even', n: 40, actor: { version: 5 } });
    const found = await actors.findOneAndUpdate({ _id: 'a40', 'actor.version': 5 }, { $inc: { 'actor.version': 1 } }, { returnDocument: 'after' });
    assert.equal(found?.actor.version, 6);
    assert.equal(await actors.findOneAndUpdate({ _id: 'a40', 'actor.version': 5 }, { $inc: { 'actor.version': 1 } }), null);
  });

  it('compound, sparse and multikey unique indexes; numbers of either type', async () => {
    const messages = db.collection('messages');
    await messages.createIndex({ chat_id: 1, seq: -1 }, { name: 'chat_seq_unique', unique: true });
    await messages.insertMany(Array.from({ length: 300 }, (_, i) => ({ chat_id: `c${i % 3}`, seq: Math.floor(i / 3), body: `m${i}` })));
    const one = await messages.find({ chat_id: 'c1', seq: 7, body: { $exists: true } }, { projection: { _id: 0 } }).toArray();
    assert.deepEqual(one, [{ chat_id: 'c1', seq: 7, body: 'm22' }]);
    assert.deepEqual(await messages.find({ chat_id: 'c1', seq: 7, body: 'm23' }).toArray(), []);
    assert.deepEqual(await messages.find({ chat_id: 'c1', seq: new Double(7), body: 'm22' }, { projection: { _id: 0, body: 1 } }).toArray(), [{ body: 'm22' }]);
    assert.deepEqual(await messages.find({ chat_id: 'c1', seq: { $gte: 98 }, body: { $exists: true } }, { projection: { _id: 0, seq: 1 } }).toArray(), [{ seq: 98 }, { seq: 99 }]);
    assert.equal((await messages.updateOne({ chat_id: 'c2', seq: 3, body: 'm11' }, { $set: { seen: true } })).modifiedCount, 1);
    assert.equal(await messages.countDocuments({ seen: true }), 1);

    const users = db.collection<{ _id: number; name: string; mobile?: string | null }>('users');
    await users.createIndex({ mobile: 1 }, { name: 'mobile_unique', unique: true, sparse: true });
    await users.insertMany([{ _id: 1, name: 'x' }, { _id: 2, name: 'y', mobile: '555' }, { _id: 3, name: 'z' }]);
    assert.deepEqual(await users.find({ mobile: '555', name: 'y' }).toArray(), [{ _id: 2, name: 'y', mobile: '555' }]);
    assert.deepEqual((await users.find({ mobile: null, name: { $ne: 'q' } }).toArray()).map((d) => d._id), [1, 3]);
    assert.deepEqual((await users.find({ _id: new Double(2), name: 'y' } as unknown as Filter<{ _id: number; name: string }>).toArray()).map((d) => d.name), ['y']);
    assert.deepEqual((await users.find({ _id: 2, name: 'y', $and: [{ _id: 2 }] }).toArray()).length, 1);

    const tags = db.collection<{ _id: string; tag: string | string[]; n: number }>('tags');
    await tags.createIndex({ tag: 1 }, { name: 'tag_unique', unique: true });
    await tags.insertMany([{ _id: 't1', tag: ['a', 'b'], n: 1 }, { _id: 't2', tag: 'c', n: 2 }]);
    assert.deepEqual((await tags.find({ tag: 'b', n: 1 }).toArray()).map((d) => d._id), ['t1']);
    assert.deepEqual((await tags.find({ tag: 'c', n: { $gt: 0 } }).toArray()).map((d) => d._id), ['t2']);
  });

  it('non-unique index: equality on its first field returns what a scan returns, through inserts, updates and deletes', async () => {
    type Msg = { _id: number; chat_id?: unknown; seq: number; tag?: string };
    // The same documents and writes go to an indexed collection and to one without the index (a scan).
    const indexed = db.collection<Msg>('msgs');
    const scanned = db.collection<Msg>('msgs_scan');
    const both = async (op: (c: typeof indexed) => Promise<unknown>): Promise<void> => {
      assert.deepEqual(await op(indexed), await op(scanned));
    };
    // Documents first, index second: the index is built from existing documents, then maintained.
    const chatIds: unknown[] = ['c1', 'c2', 7, new Double(7), ['c1', 'c3'], [['c1']], null, undefined, { c: 1 }, 'C1', 7.5];
    const docs = Array.from({ length: 220 }, (_, i) => {
      const chatId = chatIds[i % chatIds.length];
      return { _id: i, ...(chatId === undefined ? {} : { chat_id: chatId }), seq: i, ...(i % 4 === 0 ? { tag: 'x' } : {}) };
    });
    await both((c) => c.insertMany(docs.map((d) => ({ ...d }))));
    await indexed.createIndex({ chat_id: 1, datetime: -1 }, { name: 'chat_datetime' });
    await indexed.createIndex({ 'nested.id': 1 }, { name: 'nested_id' });

    const compare = async (label: string): Promise<void> => {
      const filters: Document[] = [];
      for (const v of ['c1', 'c2', 'c3', 7, new Double(7), 7.5, 'nope']) {
        filters.push({ chat_id: v }, { chat_id: v, seq: { $gt: 50 }, tag: 'x' }, { $and: [{ chat_id: { $eq: v } }, { seq: { $lt: 150 } }] });
      }
      for (const filter of filters) {
        const what = `${label} ${JSON.stringify(filter)}`;
        const run = async (c: typeof indexed) => ({
          all: await c.find(filter).toArray(),
          sorted: await c.find(filter, { sort: { seq: -1 }, skip: 2, limit: 5 }).toArray(),
          natural: await c.find(filter, { sort: { $natural: -1 }, limit: 3 }).toArray(),
          count: await c.countDocuments(filter),
        });
        const [got, want] = [await run(indexed), await run(scanned)];
        assert.deepEqual(got, want, what);
      }
      assert.ok((await indexed.countDocuments({ chat_id: 'c1' })) > 0, label);
    };
    await compare('built');

    await both((c) => c.updateMany({ chat_id: 'c2', seq: { $lt: 100 } }, { $set: { chat_id: 'c3' } }));
    await both((c) => c.updateOne({ chat_id: 7, seq: { $gt: 100 } }, { $unset: { chat_id: '' } }));
    await both((c) => c.updateOne({ _id: 0 }, { $set: { chat_id: ['c2', 'c2', 7] } }));
    await both((c) => c.replaceOne({ _id: 1 }, { seq: 1, chat_id: 'c1', tag: 'x' }));
    await both((c) => c.deleteMany({ chat_id: 'c1', seq: { $gte: 100 }, tag: { $exists: false } }));
    await compare('changed');
    // deleted positions are reused by new documents
    const more = Array.from({ length: 40 }, (_, i) => ({ _id: 1000 + i, chat_id: i % 2 ? 'c2' : 'c1', seq: 1000 + i, tag: 'x' }));
    await both((c) => c.insertMany(more.map((d) => ({ ...d }))));
    await compare('refilled');
    await both((c) => c.deleteMany({ chat_id: 7 }));
    assert.equal(await indexed.countDocuments({ chat_id: new Double(7) }), 0);
    await compare('deleted');
    await indexed.dropIndex('chat_datetime');
    await compare('dropped');
  });

  it(`answers an _id update among ${DOCS} documents without scanning them`, async (t) => {
    const actors = db.collection<Actor>('actors');
    const time = async (filter: (i: number) => Document): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < TIMED_UPDATES; i++) {
        const res = await actors.updateOne(filter(i), { $set: { touched: i } });
        assert.equal(res.matchedCount, 1);
      }
      return (performance.now() - started) / TIMED_UPDATES;
    };
    // a1000, a1003, .. a1597: fence 2, version still 1
    const byId = await time((i) => ({ _id: `a${1000 + 3 * i}`, 'actor.version': 1, ...fenceOk(5) }));
    // the same records, found by a field no index covers: a full scan
    const byScan = await time((i) => ({ n: 1000 + 3 * i, 'actor.version': 1, ...fenceOk(5) }));
    t.diagnostic(`updateOne over ${DOCS} docs: _id + conditions ${byId.toFixed(3)} ms, scan ${byScan.toFixed(3)} ms`);
    assert.ok(byId * 4 < byScan, `_id + conditions took ${byId.toFixed(3)} ms per update, a scan ${byScan.toFixed(3)} ms`);
  });

  it(`answers an equality on a non-unique index's first field among ${DOCS} documents without scanning them`, async (t) => {
    const actors = db.collection<Actor>('actors');
    await actors.createIndex({ n: 1, kind: 1 }, { name: 'n_kind' });
    const time = async (filter: (i: number) => Document): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < TIMED_UPDATES; i++) {
        const docs = await actors.find(filter(i), { projection: { n: 1 } }).toArray();
        assert.deepEqual(docs, [{ _id: `a${2000 + 7 * i}`, n: 2000 + 7 * i }]);
      }
      return (performance.now() - started) / TIMED_UPDATES;
    };
    const byIndex = await time((i) => ({ n: 2000 + 7 * i, 'actor.version': { $gte: 1 } }));
    const byScan = await time((i) => ({ n: { $in: [2000 + 7 * i] }, 'actor.version': { $gte: 1 } }));
    t.diagnostic(`find over ${DOCS} docs: non-unique index field + conditions ${byIndex.toFixed(3)} ms, scan ${byScan.toFixed(3)} ms`);
    assert.ok(byIndex * 4 < byScan, `index field + conditions took ${byIndex.toFixed(3)} ms per find, a scan ${byScan.toFixed(3)} ms`);
  });
});
