/**
 * The MongoDB test server drops an index like MongoDB does: only that collection's. mongo-java-server
 * 1.47.0 alone also deleted the same-named index descriptions of every other collection, after which
 * dropping the database failed ("Expected [MemoryUniqueIndex[name=…]] to be empty").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoClient, MongoServerError } from 'mongodb';
import { testMongoUrl, uniqueName } from '../support/services.ts';

describe('mongo test server: dropIndexes', () => {
  it("drops the named index of one collection, leaves other collections' same-named indexes, and the database still drops", async () => {
    const client = await MongoClient.connect(testMongoUrl());
    try {
      const db = client.db(uniqueName('dropidx'));
      for (const name of ['a', 'b']) await db.collection(name).createIndex({ customer: 1 }, { name: 'customer_unique', unique: true });
      await db.collection('b').dropIndex('customer_unique');
      assert.deepEqual((await db.collection('a').listIndexes().toArray()).map((i) => i.name), ['_id_', 'customer_unique']);
      assert.deepEqual((await db.collection('b').listIndexes().toArray()).map((i) => i.name), ['_id_']);
      await db.collection('a').insertOne({ customer: '1' });
      await assert.rejects(db.collection('a').insertOne({ customer: '1' }), (e: unknown) => e instanceof MongoServerError && e.code === 11000);
      await db.collection('b').insertMany([{ customer: '1' }, { customer: '1' }]);
      await assert.rejects(db.collection('b').dropIndex('customer_unique'), (e: unknown) => e instanceof MongoServerError && e.code === 27);
      assert.equal(await db.dropDatabase(), true);
    } finally {
      await client.close();
    }
  });
});
