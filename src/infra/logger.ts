import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Fields never written to a log, wherever they appear in a log object. */
const REDACT = [
  'apikey',
  'token',
  'secret',
  'password',
  'authorization',
  '*.apikey',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'headers.apikey',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  '*.headers.apikey',
  '*.headers.authorization',
  'config.AGENT_JWT_SECRET',
  'config.WA_API_KEY_1',
  'config.WA_API_KEY_2',
  'config.WEBHOOK_SECRET',
  'config.WEBHOOK_VERIFY_TOKEN',
];

/** The root logger: JSON lines to stdout, every line tagged with this pod's id. */
export function createLogger(opts: { level: string; pod: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: opts.level,
      base: { pod: opts.pod },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
