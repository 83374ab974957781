/**
 * A save's delta, applied to the stored document, gives exactly the document
 * a whole write would store; and it carries only what changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { docDelta, type DeltaShape } from '../../src/infra/store/doc-delta.ts';
import { applyUpdate, copy } from '../../src/infra/store/fast-update.ts';

const SHAPE: DeltaShape = { descend: ['actor', 'actor.state', 'actor.state.context'], appendOnly: ['actor.applied', 'actor.history'] };

const doc = () => ({
  _id: 'c1',
  status: 'active',
  last_message: 'hello',
  last_message_time: new Date(1000),
  labels: ['vip'],
  actor: {
    version: 3,
    state: { value: 'active', context: { lastSeq: 3, lastMessage: 'hello', inbox: { assignee: null as string | null, labels: ['vip'] } } },
    applied: ['m1', 'm2', 'm3'],
    history: [{ at: 1, event: 'CUSTOMER_MESSAGE' }],
    pending: [{ type: 'message.appended' }],
    deadlines: [],
  },
});

/** The next version after one message, with a window of `window` applied ids. */
function next(before: ReturnType<typeof doc>, window = 3) {
  const after = copy(before);
  after.last_message = 'next';
  after.last_message_time = new Date(2000);
  after.actor.version++;
  after.actor.state.context.lastSeq++;
  after.actor.state.context.lastMessage = 'next';
  after.actor.applied = [...after.actor.applied, `m${after.actor.version}`].slice(-window);
  after.actor.history = [...after.actor.history, { at: after.actor.version, event: 'CUSTOMER_MESSAGE' }].slice(-20);
  return after;
}

function applied(before: object, delta: object): unknown {
  const r = applyUpdate(before as Record<string, unknown>, delta as Record<string, unknown>);
  assert.ok(r, 'the memory store applies the delta on its fast path');
  return r.next;
}

describe('doc delta', () => {
  it('writes only the changed fields, and appends to the windows with $push and $slice', () => {
    const before = doc();
    const after = next(before);
    const delta = docDelta(before, after, SHAPE);
    assert.deepEqual(delta, {
      $set: {
        last_message: 'next',
        last_message_time: new Date(2000),
        'actor.version': 4,
        'actor.state.context.lastSeq': 4,
        'actor.state.context.lastMessage': 'next',
      },
      $push: { 'actor.applied': { $each: ['m4'], $slice: -3 }, 'actor.history': { $each: [{ at: 4, event: 'CUSTOMER_MESSAGE' }], $slice: -2 } },
    });
    assert.deepEqual(applied(before, delta!), after);
  });

  it('gives the next document when applied, over many saves (windows full, objects replaced, fields added)', () => {
    let stored: ReturnType<typeof doc> = doc();
    for (let i = 0; i < 50; i++) {
      const after = next(stored, 5);
      if (i % 7 === 0) after.actor.state.context.inbox = { assignee: `agent${i}`, labels: ['vip', `l${i}`] };
      if (i % 11 === 0) (after as Record<string, unknown>).snoozed_until = new Date(i);
      if (i % 13 === 0) after.actor.pending = [];
      const delta = docDelta(stored, after, SHAPE);
      assert.ok(delta, `save ${i} has a delta`);
      assert.deepEqual(applied(stored, delta), after, `save ${i}`);
      stored = after;
    }
  });

  it('sets an array whole when it was not appended to, and asks for a whole write when a field went away', () => {
    const before = doc();
    const rewritten = copy(before);
    rewritten.actor.applied = ['x'];
    assert.deepEqual(docDelta(before, rewritten, SHAPE), { $set: { 'actor.applied': ['x'] } });
    const dropped = copy(before) as Record<string, unknown>;
    delete dropped.labels;
    assert.equal(docDelta(before, dropped, SHAPE), undefined);
    const droppedInContext = copy(before);
    delete (droppedInContext.actor.state.context as Record<string, unknown>).lastMessage;
    assert.equal(docDelta(before, droppedInContext, SHAPE), undefined);
  });

  it('appends several items at once, to windows not yet full and full ones, items repeating included', () => {
    // Seeded, so a failure repeats: windows of 1-6 items drawn from 3 values (repeats make the overlap ambiguous).
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 500; round++) {
      const window = 1 + rand(6);
      const before = doc();
      before.actor.applied = Array.from({ length: rand(window + 1) }, () => `v${rand(3)}`);
      const after = copy(before);
      after.actor.applied = [...before.actor.applied, ...Array.from({ length: rand(4) }, () => `v${rand(3)}`)].slice(-window);
      const delta = docDelta(before, after, SHAPE);
      assert.ok(delta, `round ${round}`);
      assert.deepEqual(applied(before, delta), after, `round ${round}: ${JSON.stringify(before.actor.applied)} -> ${JSON.stringify(after.actor.applied)}`);
    }
  });

  it('writes nothing for what is equal as stored: the same instant, undefined fields', () => {
    const before = doc();
    const after = { ...copy(before), last_message_time: new Date(1000), extra: undefined };
    assert.deepEqual(docDelta(before, after, SHAPE), { $set: {} });
  });
});
