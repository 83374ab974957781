/** What every scenario entry point shares: its mode, its time budget, its pods and load generators. */
import { randomBytes } from 'node:crypto';
import { Child } from './proc.ts';
import type { Mode } from './report.ts';

export function modeFromArgs(argv = process.argv): Mode {
  return argv.includes('--quick') ? 'quick' : 'full';
}

/** A short random tag that keeps ids, databases and key prefixes of one run apart from another's. */
/**
 * BENCH_SUBJECTS='redis+mongo, 1 pod|embedded': only the subjects whose names contain one of the
 * `|`-separated parts (subject names themselves hold commas), for a profile-and-fix loop. All without it.
 */
export function wantedSubject(name: string): boolean {
  const picked = process.env.BENCH_SUBJECTS?.split('|').map((p) => p.trim());
  return !picked || picked.some((p) => name.includes(p));
}

export const runTag = (): string => randomBytes(4).toString('hex');

/** Starts a pod (see servers/pod.ts) and resolves with it and its port. */
export async function startPod(kind: string, env: Record<string, string> = {}, lifetimeMs = 15 * 60_000): Promise<{ pod: Child; port: number }> {
  // BENCH_POD_FLAGS='--trace-gc …': Node flags for the pods only, to try a runtime setting without editing code.
  const nodeFlags = process.env.BENCH_POD_FLAGS?.split(' ').filter(Boolean) ?? [];
  const pod = new Child('servers/pod.ts', [kind], { env, lifetimeMs, profile: `pod-${kind}`, nodeFlags });
  await pod.ready;
  return { pod, port: await pod.call<number>('port') };
}

/** Starts a load-generator child (`loadgen/<name>.ts`). */
export async function startLoadgen(name: string, lifetimeMs = 15 * 60_000): Promise<Child> {
  const child = new Child(`loadgen/${name}.ts`, [], { lifetimeMs });
  await child.ready;
  return child;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn`, and if it has not settled by `ms`, rejects: no scenario step runs unbounded. */
export async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([fn(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
