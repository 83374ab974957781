/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with
 * the most self time, and the files (src/, node_modules packages, node
 * internals) that time belongs to. `node --import tsx bench/lib/cpuprofile-top.ts <file> [n]`.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface TopEntry {
  name: string;
  selfMs: number;
  share: number;
}

/** Self time per function and per area (package / src file / node internals), largest first. */
export function topOfProfile(file: string, n = 25): { functions: TopEntry[]; areas: TopEntry[]; callers: TopEntry[]; owners: TopEntry[]; totalMs: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = shorten(url);
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + ms);
    const a = areaOf(url, functionName);
    area.set(a, (area.get(a) ?? 0) + ms);
  }
  // Inclusive attribution: each sample to the innermost frame in src/ outside the store and transport
  // wrappers, i.e. the product call site that caused the work (mingo's scans show up under `load`, `save`…).
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const caller = new Map<string, number>();
  for (const [id, ms] of self) {
    let at: number | undefined = id;
    let key = '(outside src/)';
    while (at !== undefined) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (url.includes('/src/') && !url.includes('/src/infra/store/')) {
        key = `${functionName || '(anonymous)'} ${shorten(url)}:${lineNumber + 1}`;
        break;
      }
      at = parent.get(at);
    }
    if (byId.get(id)!.callFrame.functionName === '(idle)') key = '(idle)';
    caller.set(key, (caller.get(key) ?? 0) + ms);
  }
  // Inclusive by library: each sample to the innermost package or src/ file on its stack, so time in
  // native socket writes, Buffer copies and node internals counts for whoever asked for them.
  const owner = new Map<string, number>();
  for (const [id, ms] of self) {
    let at: number | undefined = id;
    let key = byId.get(id)!.callFrame.functionName.startsWith('(') ? byId.get(id)!.callFrame.functionName : '(node internals only)';
    while (at !== undefined) {
      const { url } = byId.get(at)!.callFrame;
      if (url.includes('/node_modules/') || url.includes('/src/')) {
        key = areaOf(url, '');
        break;
      }
      at = parent.get(at);
    }
    owner.set(key, (owner.get(key) ?? 0) + ms);
  }
  const top = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, selfMs: Math.round(ms), share: Math.round((ms / total) * 1000) / 10 }));
  return { functions: top(fn), areas: top(area), callers: top(caller), owners: top(owner), totalMs: Math.round(total) };
}

function shorten(url: string): string {
  const i = url.indexOf('/node_modules/');
  if (i >= 0) return url.slice(i + '/node_modules/'.length);
  const s = url.indexOf('/src/');
  if (s >= 0) return url.slice(s + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) {
    const rest = url.slice(i + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const s = url.indexOf('/src/');
  if (s >= 0) return url.slice(s + 1);
  if (url.startsWith('node:')) return 'node internals';
  return shorten(url);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: cpuprofile-top.ts <file.cpuprofile> [n]');
  const { functions, areas, callers, owners, totalMs } = topOfProfile(file, Number(process.argv[3] ?? 25));
  console.log(`${file}: ${totalMs} ms sampled\n\nself time by area:`);
  for (const a of areas) console.log(`  ${a.share.toFixed(1).padStart(5)}%  ${String(a.selfMs).padStart(7)} ms  ${a.name}`);
  console.log('\ntime by innermost package or src/ file (native and node internals charged to it):');
  for (const o of owners) console.log(`  ${o.share.toFixed(1).padStart(5)}%  ${String(o.selfMs).padStart(7)} ms  ${o.name}`);
  console.log('\ntime by innermost src/ caller (outside the store):');
  for (const c of callers) console.log(`  ${c.share.toFixed(1).padStart(5)}%  ${String(c.selfMs).padStart(7)} ms  ${c.name}`);
  console.log('\nself time by function:');
  for (const f of functions) console.log(`  ${f.share.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}`);
}
