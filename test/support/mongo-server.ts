/**
 * MongoDB for integration tests.
 *
 * Real MongoDB cannot be installed on the test machines, so by default this spawns the
 * in-memory wire-protocol server built from test/mongo-server (de.bwaldvogel:mongo-java-server
 * 1.47.0, memory backend, reporting MongoDB 5.0.0 / wire version 13). Set TEST_MONGO_URL to use
 * a real server instead. Build the jar first: `bash test/mongo-server/build.sh`.
 *
 * Not supported by the memory backend (verified with the mongodb 7 driver): sessions and
 * transactions, change streams, update-with-pipeline, the `$set`/`$unionWith`/`$setWindowFields`
 * aggregation stages, `$lookup` with localField/foreignField *and* pipeline together, `$filter`'s
 * `limit`, the `hello` command (the driver falls back to isMaster). Collation is silently ignored.
 * Tests that need these should run only when TEST_MONGO_URL points at a real MongoDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MongoServerHandle {
  url: string;
  stop(): Promise<void>;
}

const JAR_PATH = fileURLToPath(new URL('../mongo-server/target/mongo-test-server.jar', import.meta.url));
const BUILD_SCRIPT = 'test/mongo-server/build.sh';
const READY_TIMEOUT_MS = 30_000;
const TERM_TIMEOUT_MS = 5_000;
const KILL_TIMEOUT_MS = 2_000;
const STDERR_KEEP_CHARS = 8_192;

/** Children still running, killed synchronously if the test process exits without stop(). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function javaBinary(): string {
  const home = process.env['JAVA_HOME'];
  if (home) {
    const candidate = join(home, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(hasExited(child));
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

/** Let the test process exit even if a caller forgot stop(); the server then sees stdin EOF and quits. */
function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream instanceof Socket) stream.unref();
  }
}

/** `private: true` always starts a new server (for tests that stop it). */
/** Tests: the serial collector (least CPU and memory beside the suites). `jvmArgs` replaces it (the benchmarks pick a low-pause one). */
const TEST_JVM_ARGS = ['-XX:+UseSerialGC'];

export async function startMongoServer(opts: { private?: boolean; jvmArgs?: readonly string[] } = {}): Promise<MongoServerHandle> {
  const external = opts.private ? undefined : process.env['TEST_MONGO_URL'];
  if (external) {
    return { url: external, stop: async () => {} };
  }

  if (!existsSync(JAR_PATH)) {
    throw new Error(
      `MongoDB test server jar not found at ${JAR_PATH}. Build it with: bash ${BUILD_SCRIPT} ` +
        `(needs Java 17+ and Maven), or set TEST_MONGO_URL to a running MongoDB.`,
    );
  }

  const child = spawn(javaBinary(), [...(opts.jvmArgs ?? TEST_JVM_ARGS), '-Xss512k', '-jar', JAR_PATH, '0'], {
    // stdin stays a pipe on purpose: the server exits when it is closed (i.e. when we die).
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  installExitHook();
  child.once('exit', () => liveChildren.delete(child));

  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_KEEP_CHARS);
  });
  // Writing to a dead child's stdin must not crash the test process.
  child.stdin?.on('error', () => {});

  const describe = (what: string): string => {
    const tail = stderrTail.trim();
    return `MongoDB test server ${what}${tail ? `; stderr:\n${tail}` : ''}`;
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let stdoutBuf = '';
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      const onData = (chunk: string): void => {
        stdoutBuf += chunk;
        let nl: number;
        while ((nl = stdoutBuf.indexOf('\n')) >= 0) {
          const line = stdoutBuf.slice(0, nl).trim();
          stdoutBuf = stdoutBuf.slice(nl + 1);
          const m = /^READY (\d+)$/.exec(line);
          if (m?.[1]) {
            cleanup();
            resolve(Number(m[1]));
            return;
          }
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(new Error(describe(`exited before becoming ready (code ${code}, signal ${signal})`)));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new Error(describe(`failed to start (${javaBinary()}): ${err.message}`)));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(describe(`did not print READY within ${READY_TIMEOUT_MS} ms`)));
      }, READY_TIMEOUT_MS);
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', onError);
    });
  } catch (err) {
    if (!hasExited(child)) {
      child.kill('SIGKILL');
      await waitForExit(child, KILL_TIMEOUT_MS);
    }
    throw err;
  }

  // Keep draining stdout so the child can never block on a full pipe.
  child.stdout?.resume();
  unrefChild(child);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (hasExited(child)) return;
      child.kill('SIGTERM');
      if (await waitForExit(child, TERM_TIMEOUT_MS)) return;
      child.kill('SIGKILL');
      if (!(await waitForExit(child, KILL_TIMEOUT_MS))) {
        throw new Error(`MongoDB test server (pid ${child.pid}) did not exit after SIGKILL`);
      }
    })();
    return stopping;
  };

  return { url: `mongodb://127.0.0.1:${port}`, stop };
}
