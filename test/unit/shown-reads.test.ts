import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ShownReads } from '../../src/actors/chat/shown-reads.ts';

describe('shown messages marked read', () => {
  it('keeps one read in flight per agent and chat, folding messages shown meanwhile into one read of the highest', async () => {
    const calls: string[] = [];
    const releases: (() => void)[] = [];
    const reads = new ShownReads((agent, chat, upTo) => {
      calls.push(`${agent}/${chat}/${upTo}`);
      return new Promise<void>((resolve) => releases.push(resolve));
    }, pino({ level: 'silent' }));
    reads.shown('a', 'c1', 1);
    for (const seq of [2, 4, 3]) reads.shown('a', 'c1', seq);
    reads.shown('b', 'c1', 2);
    assert.deepEqual(calls, ['a/c1/1', 'b/c1/2']);
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['a/c1/1', 'b/c1/2', 'a/c1/4']);
    for (const release of releases.splice(0)) release();
    await new Promise((r) => setImmediate(r));
    assert.equal(reads.pending, 0, 'nothing is kept once the reads are done');
  });

  it('goes on after a failed read', async () => {
    const calls: number[] = [];
    const reads = new ShownReads(async (_a, _c, upTo) => {
      calls.push(upTo);
      if (upTo === 1) throw new Error('store down');
    }, pino({ level: 'silent' }));
    reads.shown('a', 'c1', 1);
    reads.shown('a', 'c1', 2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, [1, 2]);
    assert.equal(reads.pending, 0);
  });
});
