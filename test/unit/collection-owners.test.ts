/**
 * One owner per collection: each collection is named in one module of src/
 * only, the repository that owns it; everything else goes through that
 * module. A name counts where the store is asked for a collection
 * (`.collection('…')`), where a `$lookup` joins one (`from: '…'`) and where an
 * index is declared (`collection: '…'`), written out or through a `const` of
 * the same module.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const src = join(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The source without comments; strings are kept whole (a `//` inside one is no comment). */
function withoutComments(text: string): string {
  return text.replace(/('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (_m, str: string | undefined) => str ?? '');
}

/** A collection name written out (groups 1–2) or an identifier (group 3). */
const VALUE = String.raw`(?:(['"\x60])([\w.-]+)\1|([A-Za-z_$][\w$]*))`;
const PLACES = [
  // store.collection('chats'), store.collection<T>(CHATS)
  new RegExp(String.raw`\.collection\s*(?:<[^>()]*>)?\(\s*${VALUE}\s*\)`, 'g'),
  // { $lookup: { from: 'users', … } }, in any key order
  new RegExp(String.raw`\$lookup['"]?\s*:\s*\{[^}]*?\bfrom['"]?\s*:\s*${VALUE}`, 'g'),
  // an index spec: { collection: 'chats', name: …, keys: … }
  new RegExp(String.raw`\bcollection['"]?\s*:\s*${VALUE}`, 'g'),
];

interface Naming {
  /** Collection names this module names. */
  names: Set<string>;
  /** Names this module exports as a constant (another module could name the collection through it). */
  exported: Set<string>;
}

/** The collections one module names, read from its text. */
function collectionsNamed(text: string): Naming {
  const code = withoutComments(text);
  const consts = new Map<string, { value: string; exported: boolean }>();
  for (const m of code.matchAll(/(\bexport\s+)?\bconst\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(['"`])([\w.-]+)\3/g)) {
    consts.set(m[2]!, { value: m[4]!, exported: m[1] !== undefined });
  }
  const naming: Naming = { names: new Set(), exported: new Set() };
  for (const place of PLACES) {
    for (const m of code.matchAll(place)) {
      if (m[2] !== undefined) naming.names.add(m[2]);
      const c = m[3] === undefined ? undefined : consts.get(m[3]);
      if (!c) continue; // a parameter (the store drivers) or a type annotation
      naming.names.add(c.value);
      if (c.exported) naming.exported.add(c.value);
    }
  }
  return naming;
}

/** Every collection name in src/ → the modules (paths from src/) that name it. */
function owners(): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const file of files(src)) {
    for (const name of collectionsNamed(readFileSync(file, 'utf8')).names) {
      byName.set(name, [...(byName.get(name) ?? []), relative(src, file)]);
    }
  }
  return byName;
}

describe('one owner per collection', () => {
  it('finds collection names written out, through a local const, in a $lookup and in index specs, but not in comments', () => {
    const text = [
      `const LOG = 'log';`,
      `export const OPEN = 'open';`,
      `const a = store.collection('chats');`,
      `const b = store.collection<Doc>(LOG);`,
      `const c = db.collection(name);`,
      `pipeline.push({ $lookup: { localField: 'x', from: 'users', foreignField: 'y', as: 'u' } });`,
      `const specs = [{ collection: OPEN, name: 'i', keys: { a: 1 } }];`,
      `// store.collection('commented')`,
      `/* { collection: 'commented_too' } */`,
      `const url = 'http://example.test'; store.collection('after_a_url');`,
    ].join('\n');
    const naming = collectionsNamed(text);
    assert.deepEqual([...naming.names].sort(), ['after_a_url', 'chats', 'log', 'open', 'users']);
    assert.deepEqual([...naming.exported], ['open']);
  });

  it('names each collection in one module of src/ only', () => {
    const shared = [...owners()].filter(([, modules]) => modules.length > 1).map(([name, modules]) => `${name}: ${modules.join(', ')}`);
    assert.deepEqual(shared, []);
  });

  it('keeps each name private to its module: no exported const another module could name the collection through', () => {
    const exported = files(src).flatMap((file) => [...collectionsNamed(readFileSync(file, 'utf8')).exported].map((name) => `${name} in ${relative(src, file)}`));
    assert.deepEqual(exported, []);
  });

  it('finds every collection of the product with its owning repository', () => {
    const found = Object.fromEntries([...owners()].map(([name, modules]) => [name, modules.join(', ')]));
    assert.deepEqual(found, {
      chats: 'actors/chat/chat-store.ts',
      messages: 'actors/chat/chat-store.ts',
      chat_resolve_log: 'actors/chat/chat-store.ts',
      users: 'actors/chat/users-store.ts',
      agents: 'actors/agents/agents-store.ts',
      socket_collection: 'actors/chat/presence-store.ts',
      inbox: 'actors/inbound/inbox.ts',
      outbox: 'actors/outbound/outbox-store.ts',
      outbox_early_status: 'actors/outbound/outbox-store.ts',
      discount_code_template: 'actors/discount/catalogue-store.ts',
      actor_snapshots: 'actors/discount/discount-store.ts',
      no_discount_log: 'actors/discount/discount-store.ts',
      media: 'infra/media/media-legacy.ts',
      media_chunks: 'infra/media/media-legacy.ts',
      media_jobs: 'actors/outbound/media-job-store.ts',
      conversations: 'actors/desk/conversation-log.ts',
      canned_responses: 'actors/desk/canned-responses.ts',
      labels: 'actors/desk/label-catalogue.ts',
      inbox_teams: 'actors/inbox/teams-store.ts',
      inbox_settings: 'actors/inbox/teams-store.ts',
      agent_availability: 'actors/inbox/availability.ts',
    });
  });
});
