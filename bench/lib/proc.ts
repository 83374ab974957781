/**
 * Child processes for benchmarks: servers under test ("pods") and load
 * generators run in their own Node processes, so on a 2-core machine the
 * load generator never shares an event loop with the server it measures.
 * Parent and child talk over Node's IPC channel with request/reply by id.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BENCH_DIR = join(import.meta.dirname, '..');

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface ChildOptions {
  /** Extra Node flags (`--expose-gc`, `--max-old-space-size=…`, `--cpu-prof`). */
  nodeFlags?: string[];
  env?: Record<string, string>;
  /** Answers requests the child makes with `askParent` (e.g. "publish now" relayed to a pod). */
  onRequest?: (cmd: string, args: Record<string, unknown>) => Promise<unknown>;
  /** Profile name: with BENCH_CPU_PROF set, this child runs under `--cpu-prof`. */
  profile?: string;
  /** Killed (SIGKILL) after this long no matter what: every child stops by itself. */
  lifetimeMs: number;
}

/** A TypeScript module under bench/ run as a child with an IPC channel. */
export class Child {
  private readonly proc: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly exited: Promise<number | null>;
  private readonly killer: NodeJS.Timeout;
  /** Resolves when the child is serving commands. */
  readonly ready: Promise<void>;

  constructor(readonly script: string, args: string[], opts: ChildOptions) {
    // BENCH_CPU_PROF=<dir>: servers under test write a V8 CPU profile there when they exit.
    const profDir = process.env.BENCH_CPU_PROF;
    // One directory per child: the loader-hooks thread writes a profile of its own beside the main thread's.
    const profFlags = profDir && opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, `${opts.profile}-${Date.now()}`)}`] : [];
    this.proc = fork(join(BENCH_DIR, script), args, {
      execArgv: ['--import', 'tsx', ...profFlags, ...(opts.nodeFlags ?? [])],
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let markReady: () => void = () => undefined;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.proc.on('message', (m: Reply & { ready?: boolean; up?: number; cmd?: string }) => {
      if (m.ready) return markReady();
      if (m.up !== undefined) {
        const up = m.up;
        const handler = opts.onRequest ?? (async (cmd: string) => Promise.reject(new Error(`parent does not answer ${cmd}`)));
        void handler(m.cmd ?? '', m as unknown as Record<string, unknown>).then(
          (result) => this.proc.send({ upReply: up, ok: true, result }),
          (err: unknown) => this.proc.send({ upReply: up, ok: false, error: String(err) }),
        );
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`${script}: ${m.error}`));
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    const ready = this.ready;
    this.ready = Promise.race([ready, this.exited.then((code) => Promise.reject(new Error(`${script} exited (code ${code}) before it was ready`)))]);
    this.ready.catch(() => undefined); // awaited by callers; never an unhandled rejection
    void this.exited.then((code) => {
      clearTimeout(this.killer);
      for (const [id, w] of this.waiting) {
        clearTimeout(w.timer);
        w.reject(new Error(`${script} exited (code ${code}) before answering`));
        this.waiting.delete(id);
      }
    });
    this.killer = setTimeout(() => this.proc.kill('SIGKILL'), opts.lifetimeMs).unref();
    const kill = () => this.proc.kill('SIGKILL');
    process.once('exit', kill);
    void this.exited.then(() => process.off('exit', kill));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Sends a command and resolves with the child's answer (rejects after `timeoutMs`). */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.script}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, ...args });
    });
  }

  /** Asks the child to exit, then kills it if it has not within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.send({ id: 0, cmd: 'exit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const asked = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let askedNext = 0;

/** In a child: asks the parent (its `onRequest`) and resolves with the answer. */
export function askParent<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
  const up = ++askedNext;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => (asked.delete(up), reject(new Error(`parent did not answer ${cmd} within ${timeoutMs} ms`))), timeoutMs);
    asked.set(up, {
      resolve: (v) => (clearTimeout(timer), resolve(v as T)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    });
    if (process.connected) process.send?.({ up, cmd, ...args }, undefined, undefined, () => undefined);
  });
}

export type CommandHandler = (cmd: string, args: Record<string, unknown>) => Promise<unknown> | unknown;

/**
 * In a child: answers the parent's commands. `exit` runs `onExit` (bounded)
 * and exits; the child also exits if the parent goes away.
 */
export function serveCommands(handler: CommandHandler, onExit: () => Promise<void> = async () => {}): void {
  if (!process.send) throw new Error('not started with an IPC channel (use Child)');
  // The parent may be gone (it timed out, or was killed): a reply then has nowhere to go.
  const reply = (m: Reply) => {
    if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
  };
  const exit = async () => {
    await Promise.race([onExit().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    process.exit(0);
  };
  process.on('message', (m: { id: number; cmd: string; upReply?: number; ok?: boolean; result?: unknown; error?: string } & Record<string, unknown>) => {
    if (m.upReply !== undefined) {
      const w = asked.get(m.upReply);
      asked.delete(m.upReply);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
      return;
    }
    if (m.cmd === 'exit') return void exit();
    Promise.resolve()
      .then(() => handler(m.cmd, m))
      .then(
        (result) => reply({ id: m.id, ok: true, result }),
        (err: unknown) => reply({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => void exit());
  process.send({ ready: true });
}
