/**
 * One suite, every actor dispatcher (`src/actors/cluster/dispatch.ts`): what
 * a pod may rely on whichever way events reach their actors. Each test runs
 * on a fresh pod that owns every shard, with a real `ActorHost` and the
 * driver's matching ownership.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Delivery } from '../../src/actors/runtime/actor-host.ts';
import { toAppError } from '../../src/infra/errors.ts';
import { eventually } from '../support/webhooks.ts';
import { KIND, TallyStore, add, nope, sleep, type DispatchPod, type TallyContext } from './dispatch.fixtures.ts';

/** Makes and starts a pod on `store`; the contract stops it. */
export type MakePod = (store: TallyStore) => Promise<DispatchPod>;

const outcome = (d: Delivery) => ({ handled: d.handled, duplicate: d.duplicate, context: d.context });

/** Runs `test` on a fresh pod and store, and stops the pod whatever happens. */
async function withPod(make: MakePod, test: (pod: DispatchPod, store: TallyStore) => Promise<void>): Promise<void> {
  const store = new TallyStore();
  const pod = await make(store);
  try {
    await test(pod, store);
  } finally {
    await pod.stop();
  }
}

export function dispatchContract(driver: string, make: MakePod): void {
  describe(`actor dispatcher contract: ${driver}`, () => {
    it("applies every event exactly once, each actor's in dispatch order, with hundreds interleaved over many actors", () =>
      withPod(make, async ({ dispatcher }, store) => {
        const actors = 25;
        const each = 16;
        const dones: Promise<Delivery>[] = [];
        for (let n = 0; n < each; n++) for (let a = 0; a < actors; a++) dones.push(dispatcher.dispatch(KIND, `a${a}`, add(`a${a}`, n)).done);
        const answers = await Promise.all(dones);
        assert.ok(answers.every((d) => d.handled && !d.duplicate), 'every event handled once');
        for (let a = 0; a < actors; a++) {
          const expected = Array.from({ length: each }, (_, n) => `a${a}#${n}`);
          assert.deepEqual(store.appliedIds(`a${a}`), expected, `actor a${a}: each event once, in dispatch order`);
        }
      }));

    it('settles queued before done for every event', () =>
      withPod(make, async ({ dispatcher }) => {
        const settled: string[] = [];
        const all = Array.from({ length: 20 }, (_, i) => {
          const d = dispatcher.dispatch(KIND, `q${i % 4}`, add(`q${i % 4}`, i));
          return [d.queued.then(() => settled.push(`queued ${i}`)), d.done.then(() => settled.push(`done ${i}`))];
        });
        await Promise.all(all.flat());
        for (let i = 0; i < 20; i++) {
          const q = settled.indexOf(`queued ${i}`);
          assert.ok(q >= 0 && q < settled.indexOf(`done ${i}`), `event ${i}: queued settled before done`);
        }
      }));

    it("answers ask with the actor's outcome: handled, duplicate and context", () =>
      withPod(make, async ({ dispatcher }) => {
        assert.deepEqual(outcome(await dispatcher.ask(KIND, 'k', add('k', 1))), { handled: true, duplicate: false, context: { log: [1] } });
        assert.deepEqual(outcome(await dispatcher.ask(KIND, 'k', add('k', 2))), { handled: true, duplicate: false, context: { log: [1, 2] } });
        assert.deepEqual(outcome(await dispatcher.ask(KIND, 'k', nope('k'))), { handled: false, duplicate: false, context: { log: [1, 2] } }, 'an event with no transition is not handled');
      }));

    it('answers an event dispatched again with the same id as a duplicate, and applies it once', () =>
      withPod(make, async ({ dispatcher }, store) => {
        const [first, again] = await Promise.all([dispatcher.dispatch(KIND, 'k', add('k', 1, 'same')).done, dispatcher.dispatch(KIND, 'k', add('k', 99, 'same')).done]);
        assert.deepEqual(outcome(first), { handled: true, duplicate: false, context: { log: [1] } });
        assert.deepEqual(outcome(again), { handled: true, duplicate: true, context: { log: [1] } });
        const later = await dispatcher.ask(KIND, 'k', add('k', 1, 'same'));
        assert.equal(later.duplicate, true, 'still a duplicate when it comes back later');
        assert.deepEqual(store.appliedIds('k'), ['same']);
      }));

    it("rejects done for an event whose application keeps failing, and applies other actors' events", () =>
      withPod(make, async ({ dispatcher }, store) => {
        store.fail('bad#1');
        const bad = dispatcher.dispatch(KIND, 'bad', add('bad', 1));
        const good = dispatcher.dispatch(KIND, 'good', add('good', 1));
        await assert.rejects(bad.done, /store refused bad#1/);
        assert.deepEqual(outcome(await good.done), { handled: true, duplicate: false, context: { log: [1] } });
        assert.deepEqual(store.appliedIds('bad'), []);
        assert.equal(dispatcher.stats.consumed, 1, 'only the applied event counts as consumed');
      }));

    it('resolves release(shard) only once the events taken for that shard are applied', () =>
      withPod(make, async (pod, store) => {
        const gate = store.hold('held#1');
        const done = pod.dispatcher.dispatch(KIND, 'held', add('held', 1)).done;
        await gate.entered;
        let released = false;
        const release = pod.dispatcher.release(pod.shardOf('held')).then(() => (released = true));
        await sleep(150);
        assert.equal(released, false, 'release waits for the event its shard was applying');
        gate.open();
        await release;
        assert.deepEqual(store.appliedIds('held'), ['held#1'], 'applied by the time release resolved');
        assert.equal((await done).handled, true);
      }));

    it('stop() lets events in flight finish, resolves within its bound, and applies nothing dispatched after it', () =>
      withPod(make, async ({ dispatcher }, store) => {
        const gate = store.hold('s#1');
        const inflight = dispatcher.dispatch(KIND, 's', add('s', 1)).done;
        await gate.entered;
        const started = Date.now();
        let stopped = false;
        const stopping = dispatcher.stop().then(() => (stopped = true));
        await sleep(100);
        assert.equal(stopped, false, 'stop waits for the event in flight');
        gate.open();
        await stopping;
        assert.ok(Date.now() - started < 6000, `stop took ${Date.now() - started} ms`);
        assert.equal((await inflight).handled, true, 'the event in flight was applied and answered');

        const late = dispatcher.dispatch(KIND, 's', add('s', 2));
        late.queued.catch(() => undefined);
        const fate = await Promise.race([late.done.then(() => 'applied', (err: unknown) => `refused ${toAppError(err).code}`), sleep(1500).then(() => 'unanswered')]);
        assert.ok(fate === 'unanswered' || fate === 'refused SHUTTING_DOWN', `${fate}: refused, a caller is told the pod is shutting down (503, retry elsewhere)`);
        assert.deepEqual(store.appliedIds('s'), ['s#1'], 'nothing dispatched after stop was applied');
      }));

    it('counts in stats what it routed and applied', () =>
      withPod(make, async ({ dispatcher }) => {
        assert.deepEqual(dispatcher.stats, { routedLocal: 0, routedRemote: 0, consumed: 0, claimed: 0 });
        await Promise.all(Array.from({ length: 10 }, (_, i) => dispatcher.ask(KIND, `c${i % 3}`, add(`c${i % 3}`, i))));
        await dispatcher.ask(KIND, 'c0', nope('c0'));
        assert.deepEqual(dispatcher.stats, { routedLocal: 11, routedRemote: 0, consumed: 11, claimed: 0 }, 'a lone pod routes everything to itself');
      }));

    it('reports as backlog the events taken and not yet applied, and 0 once they are', () =>
      withPod(make, async ({ dispatcher }, store) => {
        assert.equal(await dispatcher.backlog(), 0);
        const gate = store.hold('b#1');
        const done = dispatcher.dispatch(KIND, 'b', add('b', 1)).done;
        await gate.entered;
        await eventually(async () => (await dispatcher.backlog()) === 1, 5000, 'the held event counted in the backlog');
        gate.open();
        assert.deepEqual((await done).context as TallyContext, { log: [1] });
        await eventually(async () => (await dispatcher.backlog()) === 0, 5000, 'the backlog empty once it is applied');
      }));
  });
}
