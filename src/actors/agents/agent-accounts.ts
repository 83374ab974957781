/**
 * Agent accounts: login (scrypt-checked, rate-limited, the same answer and the
 * same work for an unknown user as for a wrong password) and their
 * administration. Tokens are the HS256 tokens an external identity service
 * could mint too, plus `tv`, the account's token version (see agent-tokens.ts).
 */
import { usernameSchema } from '../../domain/agent-account.ts';
import { AppError } from '../../infra/errors.ts';
import { signToken } from '../../infra/jwt.ts';
import { hashPassword, unmatchableHash, verifyPassword } from '../../infra/password.ts';
import type { AgentRole, AgentSummary, AgentsStore } from './agents-store.ts';
import { KdfGate } from './kdf-gate.ts';
import { LoginLimiter } from './login-limiter.ts';

export interface LoginResult {
  token: string;
  /** ISO 8601. */
  expires_at: string;
  agent: { username: string; name: string; role: AgentRole };
}

export interface NewAgent {
  username: string;
  name: string;
  password: string;
  role: AgentRole;
}

export interface AgentPatch {
  name?: string | undefined;
  role?: AgentRole | undefined;
  password?: string | undefined;
  disabled?: boolean | undefined;
}

export interface AgentAccountsDeps {
  agents: AgentsStore;
  jwtSecret: string;
  tokenTtlS: number;
  limiter?: LoginLimiter;
  gate?: KdfGate;
  /** Called after an account changed (created, edited, disabled): the token check and other pods hear of it. */
  onChange?: (username: string) => void;
}

export class AgentAccounts {
  private readonly limiter: LoginLimiter;
  private readonly gate: KdfGate;
  /** Checked for usernames that have no account, so they cost what a wrong password does. */
  private readonly dummyHash = unmatchableHash();

  constructor(private readonly deps: AgentAccountsDeps) {
    this.limiter = deps.limiter ?? new LoginLimiter();
    this.gate = deps.gate ?? new KdfGate();
  }

  /**
   * A token for `username`/`password`, or BAD_CREDENTIALS alike for an unknown
   * user, a wrong password and a disabled account; RATE_LIMITED (with
   * Retry-After) once the username or the client address has 5 failures in the window.
   */
  async login(username: string, password: string, client: string): Promise<LoginResult> {
    const keys = [`user:${username.slice(0, 100)}`, `addr:${client}`];
    const wait = Math.max(...keys.map((k) => this.limiter.retryAfterS(k)));
    if (wait > 0) throw new AppError('RATE_LIMITED', 'Too many failed logins; retry later', { retryAfterS: wait });

    const account = usernameSchema.safeParse(username).success ? await this.deps.agents.find(username) : undefined;
    const matches = await this.gate.run(() => verifyPassword(password, account?.password_hash ?? this.dummyHash));
    if (!account || !matches || account.disabled) {
      for (const k of keys) this.limiter.fail(k);
      throw new AppError('BAD_CREDENTIALS');
    }
    this.limiter.clear(keys[0]!);
    await this.deps.agents.recordLogin(account.username);
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + this.deps.tokenTtlS; // the token's own exp: one clock reading for both
    const token = signToken({ sub: account.username, role: account.role, ttlSeconds: this.deps.tokenTtlS, tv: account.token_version, nowSeconds: now }, this.deps.jwtSecret);
    return { token, expires_at: new Date(expiresAt * 1000).toISOString(), agent: { username: account.username, name: account.name, role: account.role } };
  }

  list(): Promise<AgentSummary[]> {
    return this.deps.agents.list();
  }

  /** Creates an account; AGENT_EXISTS when the username is taken. */
  async create(input: NewAgent): Promise<AgentSummary> {
    const password_hash = await this.gate.run(() => hashPassword(input.password));
    const created = await this.deps.agents.create({ username: input.username, name: input.name, role: input.role, password_hash });
    if (!created) throw new AppError('AGENT_EXISTS', `An agent named ${input.username} already exists`);
    this.deps.onChange?.(input.username);
    return created;
  }

  /**
   * Edits an account; NOT_FOUND when there is none. A new password, a new
   * role or disabling it raises the token version: every token issued before
   * stops working (a renamed display name does not).
   */
  async update(username: string, patch: AgentPatch): Promise<AgentSummary> {
    const password_hash = patch.password === undefined ? undefined : await this.gate.run(() => hashPassword(patch.password!));
    const current = await this.deps.agents.find(username);
    if (!current) throw new AppError('NOT_FOUND', `No agent named ${username}`);
    const revoke = password_hash !== undefined || (patch.role !== undefined && patch.role !== current.role) || (patch.disabled === true && !current.disabled);
    const updated = await this.deps.agents.update(username, { name: patch.name, role: patch.role, disabled: patch.disabled, password_hash }, revoke);
    if (!updated) throw new AppError('NOT_FOUND', `No agent named ${username}`);
    this.deps.onChange?.(username);
    return updated;
  }
}
