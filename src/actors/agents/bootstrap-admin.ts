import { randomBytes } from 'node:crypto';
import { AppError } from '../../infra/errors.ts';
import type { Logger } from '../../infra/logger.ts';
import type { AgentAccounts } from './agent-accounts.ts';
import type { AgentsStore } from './agents-store.ts';

export interface BootstrapOptions {
  username: string;
  /** ADMIN_PASSWORD; unset → a random one outside production, nothing in production. */
  password: string | undefined;
  /** NODE_ENV: `production` never makes a password up; `test` neither (suites create their own accounts). */
  env: 'development' | 'production' | 'test';
}

/**
 * At start-up, when no enabled admin exists: creates the admin account, so a
 * fresh install can log in. Returns the password when it made one up (the
 * caller prints it once); never touches an existing account.
 */
export async function bootstrapAdmin(agents: AgentsStore, accounts: AgentAccounts, opts: BootstrapOptions, log: Logger): Promise<{ generatedPassword?: string }> {
  if (await agents.hasEnabledAdmin()) return {};
  if (opts.password === undefined && opts.env === 'test') return {};
  if (opts.password === undefined && opts.env === 'production') {
    log.warn(`no admin account exists and ADMIN_PASSWORD is unset: create one with \`npm run agents -- add ${opts.username} --name Admin --role admin\``);
    return {};
  }
  const password = opts.password ?? randomBytes(18).toString('base64url');
  try {
    await accounts.create({ username: opts.username, name: 'Administrator', password, role: 'admin' });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'AGENT_EXISTS')) throw err;
    // Disabled, demoted, or another pod created it a moment ago: an existing account is never overwritten.
    log.warn({ username: opts.username }, 'no enabled admin account, and ADMIN_USERNAME names an existing account: left as it is (use `npm run agents -- enable` or `passwd`)');
    return {};
  }
  log.info({ username: opts.username }, 'admin account created');
  return opts.password === undefined ? { generatedPassword: password } : {};
}
