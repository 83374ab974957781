import assert from 'node:assert/strict';
import type { AnyMachineSnapshot } from 'xstate';

type Result = [AnyMachineSnapshot, readonly unknown[]];

/** Asserts two transitions reached the same state and would run the same actions (by type and parameters). */
export function sameTransition(expected: Result, actual: Result): void {
  const actions = (r: Result) => (r[1] as { type: string; params?: unknown }[]).map((a) => ({ type: a.type, params: JSON.parse(JSON.stringify(a.params ?? null)) }));
  assert.deepEqual(actual[0].value, expected[0].value);
  assert.deepEqual(actual[0].context, expected[0].context);
  assert.equal(actual[0].status, expected[0].status);
  assert.deepEqual(actions(actual), actions(expected));
}
