/**
 * `npm run agents -- <command>`: agent accounts from a shell, over the same
 * repository and rules as the server (actors/agents), against MONGO_URL.
 *
 *   add <username> --name "<display name>" [--role agent|admin] [--password-stdin]
 *   list
 *   disable <username> | enable <username>
 *   passwd <username> [--password-stdin]
 *
 * Passwords never come from the command line (it is visible to every user of
 * the machine and kept in shell history): they are prompted for without echo
 * (twice) on a terminal, or read as the first line of stdin with
 * `--password-stdin` or when stdin is not a terminal. With REDIS_URL set,
 * a change is announced to the running pods at once; without it they see it
 * within AGENT_CHECK_MS x 2.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AgentAccounts } from '../src/actors/agents/agent-accounts.ts';
import { AgentNotices } from '../src/actors/agents/agent-notices.ts';
import { AGENT_INDEXES, AgentsStore, type AgentSummary } from '../src/actors/agents/agents-store.ts';
import { displayNameSchema, passwordSchema, roleSchema, usernameSchema } from '../src/domain/agent-account.ts';
import { ConfigError, loadCliConfig, redactUrl } from '../src/infra/config.ts';
import { AppError } from '../src/infra/errors.ts';
import { RedisKv } from '../src/infra/kv/kv.redis.ts';
import { createLogger } from '../src/infra/logger.ts';
import { MongoStore } from '../src/infra/store/store.mongo.ts';
import type { z } from 'zod';

const USAGE = `usage: npm run agents -- <command>
  add <username> --name "<display name>" [--role agent|admin] [--password-stdin]
  list
  disable <username>
  enable <username>
  passwd <username> [--password-stdin]
Needs MONGO_URL (and MONGO_DB); REDIS_URL to tell running pods at once.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('. ')[0]} (a password is never an argument: it is prompted for, or read from stdin with --password-stdin)\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, username, ...extra] = positionals;
  if (values.help || !command) throw new UsageError(USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')} (a password is never an argument: it is prompted for, or read from stdin)`);
  if (!['add', 'list', 'disable', 'enable', 'passwd'].includes(command)) throw new UsageError(`unknown command: ${command}\n${USAGE}`);
  if (command !== 'list' && !username) throw new UsageError(`${command} needs a username\n${USAGE}`);

  const config = loadCliConfig();
  if (!config.MONGO_URL) throw new UsageError('MONGO_URL is unset: the server keeps accounts in memory in embedded mode, so there is nothing for this command to change. Set MONGO_URL (and MONGO_DB) to the database the server uses.');
  const store = await MongoStore.connect({ url: config.MONGO_URL, dbName: config.MONGO_DB, serverSelectionTimeoutMS: 5000, maxPoolSize: 2 });
  const log = createLogger({ level: 'warn', pod: 'agents-cli' });
  let kv: RedisKv | undefined;
  try {
    await store.ensureIndexes(AGENT_INDEXES);
    kv = config.REDIS_URL ? await RedisKv.connect({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX }) : undefined;
    const notices = kv ? new AgentNotices(kv, log) : undefined;
    const agents = new AgentsStore(store);
    // Never signs: the CLI does not log in, so its token settings are placeholders.
    const accounts = new AgentAccounts({ agents, jwtSecret: randomBytes(32).toString('hex'), tokenTtlS: 60, onChange: (u) => notices?.announce(u) });
    const name = (what: string) => check(usernameSchema, username, what);

    switch (command) {
      case 'list':
        printTable(await accounts.list());
        break;
      case 'add': {
        const account = {
          username: name('username'),
          name: check(displayNameSchema, values.name, '--name'),
          role: check(roleSchema, values.role ?? 'agent', '--role'),
          password: await readPassword(values['password-stdin'] === true),
        };
        const created = await accounts.create(account);
        out(`added ${created.username} (${created.role}) to ${redactUrl(config.MONGO_URL)} ${config.MONGO_DB}`);
        break;
      }
      case 'disable':
      case 'enable':
        await accounts.update(name('username'), { disabled: command === 'disable' });
        out(`${command}d ${username}${command === 'disable' ? ': its tokens are revoked' : ''}`);
        break;
      case 'passwd':
        await accounts.update(name('username'), { password: await readPassword(values['password-stdin'] === true) });
        out(`password of ${username} changed: its earlier tokens are revoked`);
        break;
    }
    // Publishing is fire-and-forget in the server; here the process is about to end, so give it a moment to leave.
    if (kv && command !== 'list') await new Promise((r) => setTimeout(r, 200));
  } finally {
    await Promise.allSettled([store.close(), kv?.close()]);
  }
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** The password: prompted twice without echo on a terminal; else the first line of stdin. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return check(passwordSchema, await firstLine(), 'password');
  const first = await promptHidden('Password (at least 10 characters): ');
  const again = await promptHidden('Again: ');
  if (first !== again) throw new UsageError('the two passwords differ');
  return check(passwordSchema, first, 'password');
}

async function firstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split('\n')[0]!.replace(/\r$/, '');
}

function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}

function printTable(rows: AgentSummary[]): void {
  const lines = [['username', 'name', 'role', 'disabled', 'last login'], ...rows.map((a) => [a.username, a.name, a.role, a.disabled ? 'yes' : 'no', a.last_login_at?.toISOString() ?? 'never'])];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) out(l.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof AppError) process.stderr.write(`${err.code}: ${err.message}\n`);
    else process.stderr.write(`agents: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
