/**
 * The error registry (src/infra/errors.ts) against the README's error table and
 * the code: every code documented with its status, every error class in src/
 * answered deliberately through `toAppError`, and no code declared but never raised.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ActorConflictError, MailboxFullError } from '../../src/actors/runtime/actor-host.ts';
import { MessageBuildError } from '../../src/domain/messages.ts';
import { Rejected } from '../../src/domain/webhook.ts';
import { ConfigError } from '../../src/infra/config.ts';
import { StartupError } from '../../src/infra/connect.ts';
import { AppError, ERRORS, errorBody, toAppError, type ErrorCode } from '../../src/infra/errors.ts';
import { KvError } from '../../src/infra/kv/kv.ts';
import { MediaRejectedError, MediaTooLargeError } from '../../src/infra/pinbot/pinbot-client.ts';
import { MediaNotFoundError } from '../../src/infra/media/media-storage.ts';
import { RateLimitTimeout } from '../../src/infra/pinbot/rate-limiter.ts';
import { StoreError } from '../../src/infra/store/store.ts';

const root = join(import.meta.dirname, '..', '..');
const src = join(root, 'src');

/**
 * Codes declared but raised nowhere in src/ yet, each with why it stays.
 * Empty today: STORE_UNAVAILABLE and SHUTTING_DOWN are raised by StoreError's and KvError's publicCode (a store that is down, or closed by shutdown).
 */
const RESERVED: Partial<Record<ErrorCode, string>> = {};

/** The README's "### Error codes" table: code → status. */
function readmeTable(): Map<string, number> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Error codes\n');
  assert.ok(start >= 0, 'README.md has a "### Error codes" section');
  const section = readme.slice(start + 1).split(/\n#{1,3} /)[0]!;
  const rows = new Map<string, number>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]!), `${m[1]} appears twice in the README's error table`);
    rows.set(m[1]!, Number(m[2]));
  }
  assert.ok(rows.size > 0, 'the README error table has rows');
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    // src/console is the browser console's code: its errors never reach the server's toAppError.
    if (d.isDirectory()) return p === join(src, 'console') ? [] : sourceFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every `class X extends …Error` in src/, by class name. */
function errorClassesInSrc(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)) found.set(m[1]!, file.slice(root.length + 1));
  }
  return found;
}

// A detail that must never reach a client of a 5xx answer.
const SECRET = 'mongodb://admin:hunter2@db-7/chat_system';

interface Sample {
  make: () => Error;
  code: ErrorCode;
}

/** One or more instances of each error class in src/, with the code a client must get when it escapes. */
const SAMPLES: Record<string, Sample[]> = {
  AppError: [{ make: () => new AppError('NOT_FOUND', 'No chat 42'), code: 'NOT_FOUND' }],
  MessageBuildError: [{ make: () => new MessageBuildError('text.body: at most 4096 characters'), code: 'VALIDATION_FAILED' }],
  Rejected: [{ make: () => new Rejected('entry.0.changes.0.value: expected an object'), code: 'NOT_A_WEBHOOK' }],
  MailboxFullError: [{ make: () => new MailboxFullError(`mailbox of chat/9876543210 is full ${SECRET}`), code: 'OVERLOADED' }],
  ActorConflictError: [{ make: () => new ActorConflictError(`chat/9876543210: stored version moved past 7 ${SECRET}`), code: 'ACTOR_CONFLICT' }],
  StoreError: [
    { make: () => new StoreError('unavailable', `mongodb unavailable: ${SECRET}`), code: 'STORE_UNAVAILABLE' },
    { make: () => new StoreError('closed', `mongodb store is closed ${SECRET}`), code: 'SHUTTING_DOWN' },
    { make: () => new StoreError('duplicate_key', `E11000 duplicate key ${SECRET}`), code: 'INTERNAL' },
    { make: () => new StoreError('bad_query', `unknown operator $where ${SECRET}`), code: 'INTERNAL' },
  ],
  KvError: [
    { make: () => new KvError('unavailable', `redis unavailable: ${SECRET}`), code: 'STORE_UNAVAILABLE' },
    { make: () => new KvError('closed', `redis key-value store is closed ${SECRET}`), code: 'SHUTTING_DOWN' },
    { make: () => new KvError('bad_input', `WRONGTYPE ${SECRET}`), code: 'INTERNAL' },
  ],
  RateLimitTimeout: [{ make: () => new RateLimitTimeout(`no send slot for 919638120888 within 10000 ms ${SECRET}`), code: 'UPSTREAM_UNAVAILABLE' }],
  MediaTooLargeError: [{ make: () => new MediaTooLargeError(`answer exceeds 16777216 bytes ${SECRET}`), code: 'INTERNAL' }],
  MediaRejectedError: [{ make: () => new MediaRejectedError(`Pinbot answered 404: media not found ${SECRET}`, 404), code: 'INTERNAL' }],
  MediaNotFoundError: [{ make: () => new MediaNotFoundError('no stored media 1003383421387256'), code: 'NOT_FOUND' }],
  ConfigError: [{ make: () => new ConfigError(`invalid configuration: MONGO_URL: ${SECRET}`), code: 'INTERNAL' }],
  StartupError: [{ make: () => new StartupError(`mongodb unreachable after 5 attempts: ${SECRET}`), code: 'INTERNAL' }],
};

describe('error registry', () => {
  it('documents every registered code in the README error table with the same status', () => {
    const table = readmeTable();
    for (const [code, entry] of Object.entries(ERRORS)) {
      assert.ok(table.has(code), `${code} is missing from the README's "### Error codes" table`);
      assert.equal(table.get(code), entry.status, `${code}: README says ${table.get(code)}, ERRORS says ${entry.status}`);
    }
  });

  it('registers every code the README error table documents', () => {
    for (const code of readmeTable().keys()) assert.ok(Object.hasOwn(ERRORS, code), `the README documents ${code}, which ERRORS does not register`);
  });

  it('has a sample for every error class declared in src/, and none for classes that are gone', () => {
    const declared = errorClassesInSrc();
    for (const [name, file] of declared) assert.ok(Object.hasOwn(SAMPLES, name), `${name} (${file}) is not in this test's SAMPLES: give it the publicCode a client gets when it escapes (src/infra/errors.ts PublicFailure) and add it`);
    for (const name of Object.keys(SAMPLES)) assert.ok(declared.has(name), `SAMPLES has ${name}, which src/ no longer declares`);
  });

  it('answers every error class through toAppError with the registered code it carries', () => {
    for (const [cls, samples] of Object.entries(SAMPLES)) {
      for (const { make, code } of samples) {
        const err = make();
        const e = toAppError(err);
        assert.ok(e instanceof AppError);
        assert.ok(Object.hasOwn(ERRORS, e.code), `${cls} → ${e.code}, which is not registered`);
        assert.equal(e.code, code, `${cls} (${err.message.slice(0, 40)}) answers ${e.code}, expected ${code}`);
        assert.equal(e.status, ERRORS[code].status);
        if (!(err instanceof AppError)) {
          const carried = (err as { publicCode?: unknown }).publicCode;
          assert.ok(typeof carried === 'string' && Object.hasOwn(ERRORS, carried), `${cls} carries no registered publicCode: its INTERNAL would be an accident`);
          assert.equal(e.cause, err, `${cls}: the original error stays the cause, for the log`);
        }
      }
    }
  });

  it('keeps the cause of 5xx answers private: the body carries only the code and a public message', () => {
    for (const [cls, samples] of Object.entries(SAMPLES)) {
      for (const { make } of samples) {
        const err = make();
        const e = toAppError(err);
        if (e.status < 500) continue;
        const body = errorBody(e);
        assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], cls);
        assert.ok(!JSON.stringify(body).includes(SECRET), `${cls} → ${e.code} leaks its cause: ${JSON.stringify(body)}`);
        assert.ok(!body.error.message.includes(err.message), `${cls} → ${e.code} repeats the internal message`);
      }
    }
  });

  it('passes on the message of client errors, which names what was wrong', () => {
    for (const cls of ['MessageBuildError', 'Rejected'] as const) {
      const err = SAMPLES[cls]![0]!.make();
      assert.equal(toAppError(err).message, err.message, cls);
    }
  });

  it('answers anything else, thrown values that are not errors included, with INTERNAL and nothing of its cause', () => {
    for (const thrown of [new Error(SECRET), new TypeError(SECRET), SECRET, { name: 'StoreError', kind: 'unavailable', message: SECRET }, { publicCode: 'NOT_FOUND', message: SECRET }, undefined]) {
      const e = toAppError(thrown);
      assert.equal(e.code, 'INTERNAL');
      assert.deepEqual(errorBody(e), { status: 0, error: { code: 'INTERNAL', message: ERRORS.INTERNAL.message } });
    }
  });

  it('answers by the code an error carries, not by its name: a subclass keeps its parent\'s, a lookalike name gets nothing', () => {
    class ReplicaSetDown extends StoreError {}
    const sub = new ReplicaSetDown('unavailable', `no primary ${SECRET}`);
    Object.defineProperty(sub, 'name', { value: 'ReplicaSetDown' });
    assert.equal(toAppError(sub).code, 'STORE_UNAVAILABLE');
    const lookalike = Object.assign(new Error(SECRET), { name: 'StoreError', kind: 'unavailable' });
    assert.equal(toAppError(lookalike).code, 'INTERNAL');
    assert.equal(toAppError(Object.assign(new Error('x'), { publicCode: 'NOT_A_CODE' })).code, 'INTERNAL');
  });

  it('raises every registered code somewhere in src/, except those reserved with a reason', () => {
    const registry = readFileSync(join(src, 'infra', 'errors.ts'), 'utf8');
    const declaration = /export const ERRORS = \{[\s\S]*?\n\} as const/.exec(registry);
    assert.ok(declaration, 'ERRORS is declared in src/infra/errors.ts');
    const code = sourceFiles(src)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n')
      .replace(declaration[0], '');
    for (const name of Object.keys(ERRORS) as ErrorCode[]) {
      const used = new RegExp(`['"\`]${name}['"\`]`).test(code);
      if (RESERVED[name] !== undefined) assert.ok(!used, `${name} is raised now: take it off RESERVED`);
      else assert.ok(used, `${name} is registered but never raised in src/: raise it, remove it, or list it in RESERVED with a reason`);
    }
  });
});
