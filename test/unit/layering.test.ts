/**
 * The house rules of docs/architecture.md, read from the imports themselves:
 * layers only import downwards, the wings of src/actors only import the wings
 * their row allows, and no module imports itself back through others.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '../..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of every source file, as paths from src/ (type-only imports count: they couple too). */
const graph = new Map<string, string[]>(
  files(src).map((file) => {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
    return [relative(src, file), specs.map((s) => relative(src, resolve(dirname(file), s)))];
  }),
);

/** `actors/chat/x.ts` → `actors/chat`; `infra/store/x.ts` → `infra`; `app.ts` → `app.ts`. */
function area(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'actors' && parts.length > 2) return `actors/${parts[1]}`;
  return parts.length > 1 ? parts[0]! : path;
}

/** What each area may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  machines: [],
  domain: ['machines'],
  infra: ['domain'],
  'actors/runtime': ['machines', 'domain', 'infra'],
  'actors/cluster': ['actors/runtime', 'machines', 'domain', 'infra'],
  'actors/inbound': ['actors/runtime', 'machines', 'domain', 'infra'],
  'actors/outbound': ['actors/runtime', 'actors/chat', 'machines', 'domain', 'infra'],
  'actors/chat': ['actors/runtime', 'actors/cluster', 'actors/inbound', 'actors/outbound', 'actors/desk', 'actors/inbox', 'machines', 'domain', 'infra'],
  'actors/inbox': ['actors/runtime', 'machines', 'domain', 'infra'],
  'actors/agents': ['machines', 'domain', 'infra'],
  'actors/desk': ['machines', 'domain', 'infra'],
  'actors/discount': ['actors/runtime', 'actors/cluster', 'actors/chat', 'actors/outbound', 'machines', 'domain', 'infra'],
  'actors/actor-system.ts': ['actors/runtime', 'actors/cluster', 'actors/inbound', 'actors/outbound', 'actors/chat', 'actors/discount', 'actors/desk', 'actors/inbox', 'machines', 'domain', 'infra'],
  transport: ['actors/runtime', 'actors/chat', 'actors/outbound', 'actors/discount', 'actors/agents', 'actors/desk', 'actors/inbox', 'machines', 'domain', 'infra'],
};

describe('layering', () => {
  it('reads every source file and its imports', () => {
    assert.ok(graph.size > 50, `${graph.size} files`);
    assert.ok(graph.get('actors/actor-system.ts')?.includes('actors/runtime/actor-host.ts'), 'a known import is seen');
    assert.equal(area('actors/chat/chat-service.ts'), 'actors/chat');
    assert.equal(area('infra/store/store.ts'), 'infra');
  });

  it('imports only downwards: each layer and wing imports only what docs/architecture.md allows', () => {
    const broken: string[] = [];
    for (const [file, deps] of graph) {
      const from = area(file);
      const allowed = ALLOWED[from];
      if (!allowed) continue; // app.ts and main.ts compose everything
      for (const dep of deps) {
        const to = area(dep);
        if (to !== from && !allowed.includes(to)) broken.push(`${file} → ${dep}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('has no import cycle between modules', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') return void cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      state.set(file, 'open');
      for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });
});
