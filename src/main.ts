import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './infra/config.ts';
import { StartupError } from './infra/connect.ts';

/** Process entry: configuration, start-up and signals. Exit 1 with one line on any start-up failure. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return die(err.message);
    throw err;
  }

  // Signals are caught from the start: one that arrives while the app is still starting shuts it down once it is up.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => void (signalled ??= signal);
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));

  let app;
  try {
    app = await startApp(config);
  } catch (err) {
    if (err instanceof StartupError) return die(`startup failed: ${err.message}`);
    throw err;
  }

  // A stray rejection (say, a connection closing under an in-flight call during shutdown) is a bug to log, not a reason to die mid-drain.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection'));

  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    // A bound on the whole drain, in case a close hangs: leave with 1 rather than never.
    setTimeout(() => die('shutdown did not finish in time'), config.SHUTDOWN_GRACE_MS + 5000).unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => die(`shutdown failed: ${(err as Error).message}`),
    );
  };
  onSignal = shutdown;
  if (signalled) shutdown(signalled);
}

function die(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
