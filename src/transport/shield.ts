import { toAppError, type AppError } from '../infra/errors.ts';
import type { Logger } from '../infra/logger.ts';

/**
 * Wraps a callback uWebSockets.js calls from native code: an exception that
 * unwinds into uWS ends the process, so whatever `run` throws is logged (5xx
 * at error, client faults at info) and handed to `answer` as a coded error.
 * Every entry point of the transport goes through here.
 */
export function shield<A extends unknown[]>(
  log: Logger,
  where: string,
  run: (...args: A) => void,
  answer?: (err: AppError, ...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      run(...args);
    } catch (err) {
      const e = toAppError(err);
      logFailure(log, e, where);
      if (!answer) return;
      try {
        answer(e, ...args);
      } catch (again) {
        log.error({ err: again, where }, 'answering an error failed');
      }
    }
  };
}

/** Faults (5xx) at error with their cause; what a client got wrong, and load shedding, at info. */
export function logFailure(log: Logger, e: AppError, where: string): void {
  if (e.status >= 500 && e.retryAfterS === undefined) log.error({ err: e.cause ?? e, where }, e.message);
  else log.info({ code: e.code, where }, e.message);
}
