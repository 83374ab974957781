/**
 * The memory store's fast paths must answer exactly as mingo (the general
 * evaluator) does: checked on generated documents, filters and updates,
 * including the array, missing-field and type-bracket cases they hand back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Query, update as mingoUpdate } from 'mingo';
import { compileFilter, matchOnce, projectFast, sortFast } from '../../src/infra/store/fast-query.ts';
import { applyUpdate, copy } from '../../src/infra/store/fast-update.ts';
import { ist } from '../../src/actors/chat/chat-views.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

type AnyObject = Record<string, unknown>;

/** A small deterministic generator, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

const VALUES = [0, 1, 2, 5, -1, 2.5, 'a', 'b', '1', '', true, false, null, new Date(1_000), new Date(2_000), [1, 2], ['a'], { x: 1 }, undefined] as const;
const PATHS = ['a', 'b', 'n.x', 'n.y', 'arr'];

function randomDoc(r: ReturnType<typeof rng>, i: number): AnyObject {
  const doc: AnyObject = { _id: `d${i}` };
  for (const p of ['a', 'b']) if (r.next() < 0.8) doc[p] = r.pick(VALUES);
  if (r.next() < 0.7) doc.n = r.next() < 0.15 ? [{ x: r.pick(VALUES) }] : { x: r.pick(VALUES), y: r.pick(VALUES) };
  if (r.next() < 0.3) doc.arr = [r.pick(VALUES), r.pick(VALUES)];
  return copy(doc);
}

const SCALARS = [0, 1, 2, 5, 2.5, 'a', 'b', '1', true, false, new Date(1_000), new Date(2_000)];
/** Range operands the fast path compares (booleans go to mingo). */
const ORDERED = SCALARS.filter((v) => typeof v !== 'boolean');

function randomCondition(r: ReturnType<typeof rng>, depth = 0): AnyObject {
  const out: AnyObject = {};
  const n = 1 + Math.floor(r.next() * 2);
  for (let i = 0; i < n; i++) {
    const roll = r.next();
    if (roll < 0.15 && depth < 2) {
      out[r.pick(['$or', '$and'])] = [randomCondition(r, depth + 1), randomCondition(r, depth + 1)];
      continue;
    }
    const path = r.pick(PATHS);
    if (roll < 0.45) out[path] = r.pick(SCALARS);
    else {
      const op = r.pick(['$eq', '$ne', '$exists', '$in', '$nin', '$lt', '$lte', '$gt', '$gte']);
      const operand = op === '$exists' ? r.next() < 0.5 : op === '$in' || op === '$nin' ? [r.pick(SCALARS), r.pick(SCALARS)] : op.startsWith('$l') || op.startsWith('$g') ? r.pick(ORDERED) : r.pick(SCALARS);
      out[path] = { [op]: operand };
    }
  }
  return out;
}

describe('memory store fast paths agree with mingo', () => {
  it('compiled filters match exactly the documents mingo matches (or defer to it)', () => {
    const r = rng(7);
    const docs = Array.from({ length: 60 }, (_, i) => randomDoc(r, i));
    let decided = 0;
    for (let round = 0; round < 400; round++) {
      const filter = randomCondition(r);
      const fast = compileFilter(filter);
      assert.ok(fast, `plain filter should compile: ${JSON.stringify(filter)}`);
      const query = new Query(filter);
      for (const doc of docs) {
        const answer = fast(doc);
        if (answer === undefined) continue;
        decided++;
        assert.equal(answer, query.test(doc), `filter ${JSON.stringify(filter)} on ${JSON.stringify(doc)}`);
      }
    }
    assert.ok(decided > 10_000, `most answers should come from the fast path (got ${decided})`);
  });

  it('a filter evaluated once answers as its compiled matcher does, undefined included', () => {
    const r = rng(9);
    const docs = Array.from({ length: 40 }, (_, i) => randomDoc(r, i));
    const unsupported = [{ a: null }, { a: { x: 1 } }, { a: { $regex: 'x' } }, { 'arr.0': 1 }, { $nor: [{ a: 1 }] }, { a: { $in: [null] } }, { $or: [] }];
    let compared = 0;
    for (let round = 0; round < 400; round++) {
      // Plain filters, and (one in four) a plain filter with a part mingo must decide: then never decided here.
      const filter = round % 4 === 3 ? { ...randomCondition(r), ...r.pick(unsupported) } : randomCondition(r);
      const compiled = compileFilter(filter);
      for (const doc of docs) {
        assert.equal(matchOnce(filter, doc), compiled ? compiled(doc) : undefined, `filter ${JSON.stringify(filter)} on ${JSON.stringify(doc)}`);
        compared++;
      }
    }
    assert.ok(compared === 16_000);
  });

  it('filters it does not understand compile to undefined', () => {
    for (const f of [{ a: null }, { a: { x: 1 } }, { a: /x/ }, { a: { $regex: 'x' } }, { $expr: { $eq: ['$a', 1] } }, { 'arr.0': 1 }, { a: { $in: [null] } }, { $nor: [{ a: 1 }] }]) {
      assert.equal(compileFilter(f), undefined, JSON.stringify(f));
    }
  });

  it('updates produce the document mingo produces, and report change the same way', () => {
    const r = rng(11);
    const setValues = [1, 'z', true, null, new Date(5_000), { k: [1, { j: 2 }] }, [3, 4], 0];
    // An item, `$each`, `$each` with `$slice` (the actor saves' windows: negative).
    // `$slice` only onto an existing array, and never 0 or positive: there mingo differs from MongoDB (it ignores the
    // slice when it creates the array, and a 0); the store contract test checks those against the MongoDB server.
    const pushValues = [7, { k: 1 }, { $each: [1, { j: 2 }] }];
    const slicedPushes = [{ $each: [3], $slice: -2 }, { $each: ['q', 'r', 's'], $slice: -1 }];
    let applied = 0;
    for (let round = 0; round < 1500; round++) {
      const doc = randomDoc(r, round);
      const modifier: AnyObject = {};
      const used = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const op = r.pick(['$set', '$unset', '$inc', '$max', '$min', '$push']);
        const path = r.pick(['a', 'b', 'n.x', 'n.y', 'm.deep.z', 'arr']);
        if ([...used].some((u) => u === path || u.startsWith(`${path}.`) || path.startsWith(`${u}.`))) continue;
        used.add(path);
        const arg = op === '$set' ? r.pick(setValues) : op === '$unset' ? '' : op === '$inc' ? r.pick([1, -2, 0.5, 0]) : op === '$push' ? r.pick(Array.isArray(doc[path]) ? [...pushValues, ...slicedPushes] : pushValues) : r.pick([1, 3, 'b', new Date(1_500)]);
        modifier[op] = { ...(modifier[op] as AnyObject | undefined), [path]: arg };
      }
      const before = copy(doc);
      const fast = applyUpdate(doc, modifier);
      assert.deepEqual(doc, before, 'the stored document is never mutated');
      if (!fast) continue;
      applied++;
      const expected = copy(doc);
      const changed = mingoUpdate(expected, modifier, undefined, undefined, { cloneMode: 'deep' });
      assert.deepEqual(fast.next, expected, `${JSON.stringify(modifier)} on ${JSON.stringify(doc)}`);
      assert.equal(fast.changed, changed.length > 0, `changed? ${JSON.stringify(modifier)} on ${JSON.stringify(doc)}`);
    }
    assert.ok(applied > 600, `most generated updates should take the fast path (got ${applied})`);
  });

  it('keeps handed-over values as given, and otherwise stores a copy: the same document either way', () => {
    const doc = { _id: 'x', keep: { k: 1 }, n: 1 };
    const record = { version: 2, applied: ['a', 'b'], state: { context: { reads: [{ agent: 'a', seq: 1 }] } } };
    const given = applyUpdate(doc, { $set: { actor: record, n: 2 } }, true)!;
    const copied = applyUpdate(doc, { $set: { actor: record, n: 2 } })!;
    assert.equal(given.next.actor, record, 'handed over: no copy');
    assert.notEqual(copied.next.actor, record, 'not handed over: a copy');
    assert.deepEqual(given.next, copied.next);
    assert.equal(given.next.keep, doc.keep, 'what the update leaves is shared with the document before (copy-on-write)');
    assert.deepEqual(doc, { _id: 'x', keep: { k: 1 }, n: 1 }, 'the document before is unchanged');
  });

  it('hands back what MongoDB would refuse or treat element-wise', () => {
    assert.equal(applyUpdate({ _id: 'x', a: 1 }, { $set: { 'a.b': 1 } }), undefined, 'a path through a scalar');
    assert.equal(applyUpdate({ _id: 'x', a: 'text' }, { $inc: { a: 1 } }), undefined, '$inc of a string');
    assert.equal(applyUpdate({ _id: 'x' }, { $set: { a: 1, 'a.b': 2 } }), undefined, 'conflicting paths');
    assert.equal(applyUpdate({ _id: 'x', a: 1 }, { $set: { a: 2 }, $inc: { a: 1 } }), undefined, 'one plain field under two operators');
    assert.equal(applyUpdate({ _id: 'x' }, { $set: { '': 1 } }), undefined, 'an empty field name');
    assert.equal(applyUpdate({ _id: 'x' }, { $set: { $where: 1 } }), undefined, 'an operator as a field name');
    assert.equal(applyUpdate({ _id: 'x' }, { $set: { _id: 'y' } }), undefined, '_id');
    assert.equal(applyUpdate({ _id: 'x', a: [1] }, { $set: { 'a.0': 2 } }), undefined, 'array index');
    assert.equal(applyUpdate({ _id: 'x' }, { $addToSet: { a: 1 } }), undefined, 'other operators');
    assert.equal(applyUpdate({ _id: 'x', a: [1] }, { $push: { a: { $each: [2], $position: 0 } } }), undefined, '$push modifiers other than $each and $slice');
    assert.equal(applyUpdate({ _id: 'x', a: 1 }, { $push: { a: 2 } }), undefined, '$push to a scalar');
  });

  it('sorts, skips and limits as mingo does (top-k included), and hands back mixed kinds', () => {
    const r = rng(5);
    for (let round = 0; round < 200; round++) {
      const kind = r.pick(['n', 's', 'd']);
      const value = () => (r.next() < 0.1 ? r.pick([null, undefined]) : kind === 'n' ? Math.floor(r.next() * 20) : kind === 's' ? r.pick(['a', 'b', 'c', 'B', 'ab']) : new Date(Math.floor(r.next() * 20) * 1000));
      const docs = Array.from({ length: 40 + Math.floor(r.next() * 200) }, (_, i) => copy({ _id: `d${String(i).padStart(3, '0')}`, t: value(), n: { k: value() } }));
      const sort: Record<string, 1 | -1> = r.next() < 0.5 ? { t: r.pick([1, -1] as const), _id: r.pick([1, -1] as const) } : { 'n.k': r.pick([1, -1] as const) };
      const skip = r.pick([0, 0, 3, 10]);
      const limit = r.pick([0, 1, 5, 20]);
      let cursor = new Query({}).find<AnyObject>(docs).sort(sort);
      if (skip) cursor = cursor.skip(skip);
      if (limit) cursor = cursor.limit(limit);
      const expected = cursor.all().map((d) => d._id);
      assert.deepEqual(sortFast(docs, sort, skip, limit)?.map((d) => d._id), expected, `${JSON.stringify(sort)} skip ${skip} limit ${limit}`);
    }
    assert.equal(sortFast([{ t: 1 }, { t: 'a' }], { t: 1 }), undefined, 'numbers and strings mixed');
    assert.equal(sortFast([{ t: [1] }], { t: 1 }), undefined, 'arrays');
  });

  it('projections equal mingo’s for top-level include and exclude', () => {
    const doc = { _id: 'c1', actor: { version: 3 }, status: 'active', customer: '9876543210', n: null };
    for (const p of [{ actor: 0 }, { actor: 1 }, { _id: 1 }, { _id: 0 }, { status: 1, _id: 0 }, { actor: 0, _id: 0 }, { missing: 1 }, {}] as Record<string, 0 | 1>[]) {
      assert.deepEqual(projectFast(doc, p), new Query({}).find([doc], p).all()[0], JSON.stringify(p));
    }
    assert.equal(projectFast(doc, { 'actor.version': 1 }), undefined);
    assert.equal(projectFast(doc, { actor: 1, status: 0 }), undefined);
  });
});

describe('memory store indexes', () => {
  it('an index first used after inserts, updates and deletes finds what a scan finds, in scan order', async () => {
    const r = rng(7);
    const indexed = new MemoryStore();
    await indexed.ensureIndexes([{ collection: 'c', name: 'a_1', keys: { a: 1 } }, { collection: 'c', name: 'n_x', keys: { 'n.x': 1, b: -1 } }]);
    const plain = new MemoryStore(); // no index: every lookup scans
    for (const store of [indexed, plain]) {
      const c = store.collection('c');
      const gen = rng(7);
      for (let i = 0; i < 300; i++) await c.insertOne(randomDoc(gen, i));
      for (let i = 0; i < 300; i += 3) await c.updateOne({ _id: `d${i}` }, { $set: { a: gen.pick(VALUES), 'n.x': gen.pick(VALUES) } });
      for (let i = 1; i < 300; i += 7) await c.deleteOne({ _id: `d${i}` });
    }
    for (let round = 0; round < 200; round++) {
      const filter = r.next() < 0.5 ? { a: r.pick(VALUES) } : { 'n.x': r.pick(VALUES), ...(r.next() < 0.5 ? { b: r.pick(VALUES) } : {}) };
      if (Object.values(filter).some((v) => v === undefined)) continue;
      const ids = async (store: MemoryStore) => (await store.collection('c').find(filter)).map((d) => d._id);
      assert.deepEqual(await ids(indexed), await ids(plain), JSON.stringify(filter));
      // Writes after the index exists move documents between its entries.
      const id = `d${Math.floor(r.next() * 300)}`;
      const value = r.pick(VALUES);
      for (const store of [indexed, plain]) await store.collection('c').updateOne({ _id: id }, { $set: { a: value } });
    }
  });
});

describe('ist', () => {
  it('formats India Standard Time exactly as Intl does', () => {
    const intl = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    const r = rng(3);
    for (let i = 0; i < 5_000; i++) {
      const d = new Date(Math.floor(r.next() * 4_102_444_800_000)); // 1970 → 2100
      assert.equal(ist(d), intl.format(d));
    }
    assert.equal(ist('2026-11-28T06:30:00.000Z'), '28/11/2026, 12:00:00');
    assert.equal(ist('not a date'), null);
  });
});
