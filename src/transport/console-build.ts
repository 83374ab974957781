/**
 * Builds the agent console (src/console, Preact) with esbuild into
 * dist/console/<source hash>/, and loads the built files for serving.
 *
 * Built by the server at start-up when no build of the current sources exists
 * (so `npm start`, test pods and a fresh clone need no extra command), once
 * per source hash: later starts only hash the sources and read the files. The
 * Docker image builds it in `npm run build` and ships no sources; it serves the
 * build named in dist/console/latest.json.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '../..');
export const CONSOLE_SRC = join(ROOT, 'src/console');
export const CONSOLE_OUT = join(ROOT, 'dist/console');

export interface ConsoleFile {
  bytes: Buffer;
  gzip: Buffer;
  contentType: string;
}

export interface ConsoleBuild {
  hash: string;
  /** Hashed asset names (`app-XXXX.js`) → their bytes. */
  files: Map<string, ConsoleFile>;
  /** The page shell (`GET /`). */
  html: ConsoleFile;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? sourceFiles(p) : [p];
    })
    .sort();
}

/** Hash of the console sources and the lock file (a dependency bump rebuilds too). */
export function consoleSourceHash(): string | undefined {
  if (!existsSync(CONSOLE_SRC)) return undefined;
  const h = createHash('sha256');
  for (const f of [...sourceFiles(CONSOLE_SRC), join(ROOT, 'package-lock.json')]) {
    if (!existsSync(f)) continue;
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Bundles src/console/main.tsx into `outDir/<hash>` (written to a temporary folder, then renamed into place). */
export async function buildConsole(hash: string, outDir = CONSOLE_OUT): Promise<void> {
  const esbuild = await import('esbuild');
  const tmp = join(outDir, `.tmp-${randomUUID()}`);
  try {
    await esbuild.build({
      entryPoints: { app: join(CONSOLE_SRC, 'main.tsx') },
      outdir: tmp,
      entryNames: '[name]-[hash]',
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const built = readdirSync(tmp);
    const js = built.find((f) => f.endsWith('.js'));
    const css = built.find((f) => f.endsWith('.css'));
    if (!js || !css) throw new Error(`console build produced ${built.join(', ')}`);
    const shell = readFileSync(join(CONSOLE_SRC, 'index.html'), 'utf8').replace('%APP_JS%', js).replace('%APP_CSS%', css);
    writeFileSync(join(tmp, 'index.html'), shell);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ hash, files: [...built, 'index.html'] }));
    try {
      renameSync(tmp, join(outDir, hash));
    } catch (err) {
      // Another process (a second pod starting beside this one) built the same sources first.
      if (!existsSync(join(outDir, hash, 'manifest.json'))) throw err;
    }
    writeFileSync(join(outDir, 'latest.json'), JSON.stringify({ hash }));
    for (const old of readdirSync(outDir)) {
      if (old !== hash && old !== 'latest.json' && !old.startsWith('.tmp-')) rmSync(join(outDir, old), { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Reads one build into memory, each file also gzipped once. */
export function readConsoleBuild(hash: string, outDir = CONSOLE_OUT): ConsoleBuild {
  const dir = join(outDir, hash);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: string[] };
  const load = (name: string): ConsoleFile => {
    const bytes = readFileSync(join(dir, name));
    return { bytes, gzip: gzipSync(bytes, { level: 9 }), contentType: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' };
  };
  const files = new Map(manifest.files.filter((f) => f !== 'index.html').map((f) => [f, load(f)] as const));
  return { hash, files, html: load('index.html') };
}

let current: Promise<ConsoleBuild> | undefined;

/**
 * The console build for the current sources: built now if missing (once per
 * process), or the shipped build when there are no sources (the Docker image).
 */
export function loadConsole(): Promise<ConsoleBuild> {
  return (current ??= (async () => {
    const hash = consoleSourceHash();
    if (hash === undefined) {
      const latest = JSON.parse(readFileSync(join(CONSOLE_OUT, 'latest.json'), 'utf8')) as { hash: string };
      return readConsoleBuild(latest.hash);
    }
    if (!existsSync(join(CONSOLE_OUT, hash, 'manifest.json'))) {
      mkdirSync(CONSOLE_OUT, { recursive: true });
      await buildConsole(hash);
    }
    return readConsoleBuild(hash);
  })().catch((err: unknown) => {
    current = undefined; // a later start may try again
    throw err;
  }));
}

// `node --import tsx src/transport/console-build.ts`: build now (npm run build, the Dockerfile).
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const hash = consoleSourceHash();
  if (!hash) throw new Error(`no console sources at ${CONSOLE_SRC}`);
  mkdirSync(CONSOLE_OUT, { recursive: true });
  if (!existsSync(join(CONSOLE_OUT, hash, 'manifest.json'))) await buildConsole(hash);
  const b = readConsoleBuild(hash);
  const gz = [...b.files.values()].reduce((n, f) => n + f.gzip.length, b.html.gzip.length);
  console.log(`console ${hash}: ${[...b.files.keys()].join(', ')}; ${(gz / 1024).toFixed(1)} KiB gzipped in all (${dirname(join(CONSOLE_OUT, hash))})`);
}
