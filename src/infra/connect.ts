import type { Logger } from './logger.ts';
import type { ErrorCode } from './errors.ts';

/** Thrown when a required service stays unreachable through every start-up attempt. Start-up only (main exits): never reaches a client. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  /** Start-up only, like ConfigError. */
  readonly publicCode: ErrorCode = 'INTERNAL';
}

/**
 * Connects with bounded retries (exponential backoff, 250 ms doubling to 2 s),
 * so a pod that starts a moment before its database still comes up, and one
 * whose database is really gone exits with a clear reason instead of hanging.
 */
export async function connectWithRetry<T>(
  what: string,
  attempts: number,
  connect: () => Promise<T>,
  log: Logger,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await connect();
    } catch (err) {
      lastError = err;
      log.warn({ attempt, attempts, err: (err as Error).message }, `${what} not reachable yet`);
      if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 2000)));
    }
  }
  throw new StartupError(`${what} unreachable after ${attempts} attempts: ${(lastError as Error)?.message ?? lastError}`);
}
