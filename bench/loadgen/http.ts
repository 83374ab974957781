/** Child process: runs the HTTP load client on command (`run` with an HttpLoadSpec). */
import { runHttpLoad, type HttpLoadSpec } from '../lib/http-load.ts';
import { serveCommands } from '../lib/proc.ts';

serveCommands(async (cmd, args) => {
  if (cmd === 'run') return runHttpLoad(args.spec as HttpLoadSpec);
  throw new Error(`unknown command ${cmd}`);
});
