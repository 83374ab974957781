/**
 * `npm run machines:docs`: writes docs/machines/<name>.md (Mermaid diagram and
 * path table) for every machine, and the path tables into the README between
 * its `machines` markers. `--check` writes nothing and exits 1 when a file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINES, machinePage, pathRows } from '../src/machines/machine-docs.ts';

const root = join(import.meta.dirname, '..');
const START = '<!-- machines:start -->';
const END = '<!-- machines:end -->';

export function expectedFiles(readme: string): Map<string, string> {
  const files = new Map<string, string>();
  const sections: string[] = [];
  for (const [name, machine] of MACHINES) {
    files.set(join('docs/machines', `${name}.md`), machinePage(name, machine));
    const rows = pathRows(machine).map((r) => `| ${r.from} | ${r.event}${r.guard ? ` [${r.guard}]` : ''} | ${r.to} | ${r.actions} |`);
    sections.push(`#### \`${name}\` — [diagram](docs/machines/${name}.md)\n\n| from | event [guard] | to | effects |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  }
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} section`);
  files.set('README.md', `${readme.slice(0, a + START.length)}\n${sections.join('\n')}${readme.slice(b)}`);
  return files;
}

if (process.argv[1]?.endsWith('machines-docs.ts')) {
  const check = process.argv.includes('--check');
  const files = expectedFiles(readFileSync(join(root, 'README.md'), 'utf8'));
  let stale = 0;
  for (const [path, content] of files) {
    let current = '';
    try {
      current = readFileSync(join(root, path), 'utf8');
    } catch {
      current = '';
    }
    if (current === content) continue;
    stale++;
    if (check) console.error(`${path} is out of date: run npm run machines:docs`);
    else writeFileSync(join(root, path), content);
  }
  if (check && stale) process.exit(1);
  if (!check) console.log(`machines:docs: ${stale} file(s) written`);
}
