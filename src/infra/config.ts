import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { passwordSchema, usernameSchema } from '../domain/agent-account.ts';
import type { ErrorCode } from './errors.ts';

/**
 * Every environment variable the service reads, parsed once at boot.
 * This is the only module that touches `process.env` (see `loadConfig`).
 */

/** Empty strings count as "unset" for most variables (a blank line in .env). */
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** Adds an issue unless `v` is a URL with one of `protocols`. */
function checkUrl(v: string, protocols: readonly string[], ctx: z.RefinementCtx): void {
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: "${redactUrl(v)}"` });
    return;
  }
  if (!protocols.includes(parsed.protocol)) {
    ctx.addIssue({ code: 'custom', message: `expected a ${protocols.join(' or ')} URL, got "${parsed.protocol}"` });
  }
}

const url = (protocols: readonly string[]) =>
  optionalText.superRefine((v, ctx) => {
    if (v !== undefined) checkUrl(v, protocols, ctx);
  });

const origin = (fallback: string) =>
  url(['https:', 'http:']).transform((v) => (v ?? fallback).replace(/\/+$/, ''));

const flag = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return false;
    if (/^(1|true|yes)$/i.test(v)) return true;
    if (/^(0|false|no)$/i.test(v)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
    return z.NEVER;
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: integer(0, 65535, 5000),
  HOST: optionalText.transform((v) => v ?? '0.0.0.0'),
  MONGO_URL: url(['mongodb:', 'mongodb+srv:']),
  MONGO_DB: optionalText
    .transform((v) => v ?? 'chat_system')
    .pipe(z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ or - only (1-63)')),
  REDIS_URL: url(['redis:', 'rediss:']),
  /** Prepended to every Redis key and channel, so environments (or test runs) can share one Redis. */
  REDIS_PREFIX: optionalText.transform((v) => v ?? '').pipe(z.string().regex(/^[A-Za-z0-9_:.-]{0,64}$/, 'letters, digits and _ : . - only')),
  POD_ID: optionalText
    .transform((v) => v ?? randomUUID())
    .pipe(z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only')),
  AGENT_JWT_SECRET: optionalText.pipe(z.string().min(16, 'at least 16 characters').optional()),
  WEBHOOK_VERIFY_TOKEN: optionalText,
  WEBHOOK_SECRET: optionalText,
  WA_API_KEY_1: optionalText,
  WA_API_KEY_2: optionalText,
  // Per-channel Pinbot keys (WA_API_KEY_<SEND TYPE>), overriding the shared key of that send type's route.
  WA_API_KEY_DISCOUNT: optionalText,
  WA_API_KEY_CHAT: optionalText,
  WA_API_KEY_CUSTOMER_CHAT: optionalText,
  WA_API_KEY_SRDP_CHAT: optionalText,
  WA_API_KEY_VENDOR_CHAT: optionalText,
  WA_API_KEY_CUSTOMER_CHAT_NEW: optionalText,
  WA_API_KEY_DCO_NEW: optionalText,
  WA_API_KEY_VENDOR_ALT: optionalText,
  WA_API_KEY_SRDP_ALT: optionalText,
  PINBOT_ORIGIN: origin('https://partners.pinbot.ai'),
  PINBOT_V3_ORIGIN: origin('https://partnersv1.pinbot.ai'),
  // Unset → the spec's default; set to empty → forwarding disabled.
  COMMUNICATION_MASTER_URL: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return 'https://communicationmaster.oneway.cab/webhook';
      if (v === '') return undefined;
      checkUrl(v, ['https:', 'http:'], ctx);
      return v;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: optionalText.transform((v, ctx) => {
    if (v === undefined) return [] as string[];
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const o of list) {
      if (o === '*') continue;
      try {
        if (new URL(o).origin !== o) throw new Error();
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin like https://dash.example.com` });
      }
    }
    return list;
  }),
  /** Allow uWebSockets.js's slow pure-JS fallback (never in production). */
  UWS_ALLOW_FALLBACK: flag,
  SHUTDOWN_GRACE_MS: integer(0, 120_000, 10_000),
  /** The route "Yes, Send Discount Code" falls back to (an `_id` of discount_code_template). */
  DISCOUNT_CAMPAIGN_ROUTE: optionalText.transform((v) => v ?? 'pune-mumbai-airport'),
  /** A discount conversation with no message for this long ends (the machine's IDLE_TIMEOUT). */
  DISCOUNT_IDLE_TIMEOUT_MS: integer(1000, 7 * 86_400_000, 30 * 60_000),
  /** A `@statelyai/inspect` WebSocket inspector actors report to (development and staging). */
  XSTATE_INSPECT_URL: url(['ws:', 'wss:']),
  /** Resident actors idle this long are dropped from memory (their state is already stored). */
  ACTOR_IDLE_MS: integer(1000, 86_400_000, 300_000),
  STARTUP_CONNECT_ATTEMPTS: integer(1, 100, 5),
  /** Applied inbox items are deleted after this long (a webhook redelivered later would be applied again). */
  INBOX_RETENTION_MS: integer(60_000, 30 * 86_400_000, 86_400_000),
  /** Webhooks are refused (503 OVERLOADED, Retry-After) while this many acknowledged events wait to be applied. */
  MAX_UNAPPLIED_EVENTS: integer(10, 1_000_000, 2000),
  /** Attempts at one actor effect before it is dead-lettered on its actor (the actor then moves on). */
  EFFECT_ATTEMPTS: integer(1, 20, 5),
  /** The admin account created at start-up when no enabled admin exists (see bootstrap-admin.ts). */
  ADMIN_USERNAME: optionalText.transform((v) => v ?? 'admin').pipe(usernameSchema),
  /** Its password; unset outside production → a random one, printed once. Never logged. */
  ADMIN_PASSWORD: z.string().optional().transform((v) => (v === '' ? undefined : v)).pipe(passwordSchema.optional()),
  /** Proxies in front of the pods that append the client's address to X-Forwarded-For (0: the TCP peer is the client). */
  TRUST_PROXY_HOPS: integer(0, 5, 0),
  /** Requests a minute (and burst) each client address may make to the admin routes, before 429 RATE_LIMITED. */
  ADMIN_RATE_LIMIT: integer(1, 100_000, 60),
  /** Requests a minute (and burst) each client address may make to GET /api/chats/send_whatsapp_template. */
  TEMPLATE_RATE_LIMIT: integer(1, 100_000, 30),
  /** Client addresses each of those budgets tracks at once (the least recently seen is forgotten past it). */
  RATE_LIMIT_MAX_ADDRESSES: integer(100, 10_000_000, 10_000),
  /** Failed logins per username, and per client address, within a minute before 429 RATE_LIMITED. */
  LOGIN_FAILURE_LIMIT: integer(1, 1000, 5),
  /**
   * How long a pod trusts what it read of an account (disabled, token version)
   * and how often it re-checks the accounts of open WebSockets: a revocation
   * whose change notice was lost takes effect within twice this (≤ 60 s).
   */
  AGENT_CHECK_MS: integer(100, 30_000, 30_000),
  /** Team inbox (#18): open chats (active + pending) an agent may have before round robin skips them, until an admin sets it (PUT /api/inbox/settings). */
  INBOX_AGENT_CAP: integer(1, 1000, 5),
  /** An agent with no open WebSocket on any pod for this long is offline. */
  AGENT_OFFLINE_AFTER_MS: integer(1000, 3_600_000, 60_000),
  /** The periodic assignment pass (the backstop of the passes chat changes and agents coming online ask for). */
  INBOX_ASSIGN_SWEEP_MS: integer(200, 600_000, 5_000),
  /** WhatsApp's typing indicator goes to a customer at most once per chat in this long, however often agents type. */
  TYPING_INDICATOR_MIN_MS: integer(500, 60_000, 3_000),
  /** Lifetime of the tokens `POST /api/auth/login` issues. */
  AGENT_TOKEN_TTL_S: integer(60, 7 * 86_400, 12 * 3600),
  /** Wait before an effect's second attempt, doubled before each further one: 5 attempts from 100 ms span 1.5 s. */
  EFFECT_BACKOFF_MS: integer(0, 60_000, 100),
  /** Where downloaded media is kept: GridFS with MONGO_URL, process memory without (`auto`), or an S3-compatible store. */
  MEDIA_STORE: z.enum(['auto', 'gridfs', 'memory', 's3']).default('auto'),
  /** A media download keeps being retried (with backoff) this long after it was recorded, then it is `failed`. */
  MEDIA_RETRY_WINDOW_MS: integer(1000, 30 * 86_400_000, 86_400_000),
  /** Wait before a media download's second attempt, doubled before each further one (at most 1 h). */
  MEDIA_RETRY_BACKOFF_MS: integer(100, 3_600_000, 10_000),
  /** Bound on one media download attempt, connect to last byte (16 MiB takes a while on a slow link). */
  MEDIA_DOWNLOAD_TIMEOUT_MS: integer(100, 600_000, 60_000),
  /** S3-compatible endpoint (MinIO, Ceph, a test server); unset: AWS's own for `S3_REGION`. */
  S3_ENDPOINT: url(['https:', 'http:']),
  S3_BUCKET: optionalText.pipe(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lower-case letters, digits, . and -)').optional()),
  S3_REGION: optionalText.transform((v) => v ?? 'us-east-1'),
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need; default true when S3_ENDPOINT is set. */
  S3_FORCE_PATH_STYLE: optionalText.pipe(z.enum(['true', 'false']).optional()),
  /** Credentials for MEDIA_STORE=s3; unset: the AWS SDK's default chain (instance or pod role, shared files). */
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_SESSION_TOKEN: optionalText,
});

export type Config = Omit<z.infer<typeof envSchema>, 'AGENT_JWT_SECRET'> & {
  AGENT_JWT_SECRET: string;
  /** True when no secret was configured and a random one was made for this process. */
  jwtSecretGenerated: boolean;
};

/** Shortest AGENT_JWT_SECRET production accepts: HS256's own key size. */
const PRODUCTION_SECRET_BYTES = 32;

/** Thrown for an invalid environment; `message` is one line naming the variable. Boot only (main exits): never reaches a client. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The process exits at boot before serving anyone. */
  readonly publicCode: ErrorCode = 'INTERNAL';
}

/** Parse the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') || 'environment';
    throw new ConfigError(`invalid configuration: ${name}: ${issue?.message ?? 'invalid'}`);
  }
  const { AGENT_JWT_SECRET, ...rest } = parsed.data;
  if (rest.NODE_ENV === 'production') {
    // In production nobody may mint tokens by guessing a short secret, or forge customer messages without one.
    if (AGENT_JWT_SECRET === undefined) throw new ConfigError('invalid configuration: AGENT_JWT_SECRET: required when NODE_ENV=production');
    if (Buffer.byteLength(AGENT_JWT_SECRET) < PRODUCTION_SECRET_BYTES) {
      throw new ConfigError(`invalid configuration: AGENT_JWT_SECRET: at least ${PRODUCTION_SECRET_BYTES} bytes when NODE_ENV=production`);
    }
    if (rest.WEBHOOK_SECRET === undefined) throw new ConfigError('invalid configuration: WEBHOOK_SECRET: required when NODE_ENV=production');
  }
  if (rest.MEDIA_STORE === 's3' && rest.S3_BUCKET === undefined) throw new ConfigError('invalid configuration: S3_BUCKET: required when MEDIA_STORE=s3');
  if (rest.MEDIA_STORE === 'gridfs' && rest.MONGO_URL === undefined) throw new ConfigError('invalid configuration: MEDIA_STORE: gridfs needs MONGO_URL');
  return {
    ...rest,
    AGENT_JWT_SECRET: AGENT_JWT_SECRET ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: AGENT_JWT_SECRET === undefined,
  };
}

/** What `npm run agents` reads: the store (and Redis, to announce changes), nothing else the server needs. */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): Pick<z.infer<typeof envSchema>, 'MONGO_URL' | 'MONGO_DB' | 'REDIS_URL' | 'REDIS_PREFIX'> {
  const parsed = envSchema.pick({ MONGO_URL: true, MONGO_DB: true, REDIS_URL: true, REDIS_PREFIX: true }).safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration: ${issue?.path.join('.') || 'environment'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** A URL safe to log: credentials replaced. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//***@');
  }
}
