import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MACHINES, machineJson, mermaid } from '../../src/machines/machine-docs.ts';
import { expectedFiles } from '../../scripts/machines-docs.ts';

const root = join(import.meta.dirname, '../..');

describe('machine documentation', () => {
  it('is up to date in docs/machines and the README (run npm run machines:docs)', () => {
    for (const [path, content] of expectedFiles(readFileSync(join(root, 'README.md'), 'utf8'))) {
      assert.equal(readFileSync(join(root, path), 'utf8'), content, `${path} is stale: run npm run machines:docs`);
    }
  });

  it('keeps machine files loadable in the Stately visualizer: they import nothing but xstate', () => {
    for (const name of MACHINES.keys()) {
      const source = readFileSync(join(root, `src/machines/${name}.machine.ts`), 'utf8');
      const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      assert.deepEqual(imports, ['xstate'], name);
    }
  });

  it('exports each machine as JSON with its states, guards and actions by name', () => {
    const json = machineJson(MACHINES.get('discount')!) as { id: string; initial: string; states: Record<string, { states?: Record<string, unknown> }> };
    assert.equal(json.id, 'discount');
    assert.equal(json.initial, 'ended');
    assert.deepEqual(Object.keys(json.states.conversation?.states ?? {}), ['waiting', 'offered', 'codeSent', 'askedReason', 'reasonRecorded', 'handedOver', 'timedOut']);
    assert.match(JSON.stringify(json), /"guard":"routeAvailable"/);
    assert.match(mermaid(MACHINES.get('discount')!), /offered --> timedOut : after IDLE_TIMEOUT/);
    assert.match(mermaid(MACHINES.get('chat')!), /active --> resolved : SET_STATUS \[resolving\]/);
  });
});
