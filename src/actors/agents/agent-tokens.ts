/**
 * Whether a token login issued still stands: its account exists, is not
 * disabled, and still has the token version (`tv`) and role the token carries.
 * A token without `tv` was minted elsewhere with AGENT_JWT_SECRET (an external
 * identity service, the development token): it is not an account's and is not
 * checked here.
 *
 * Each pod keeps what it read of an account for at most `ttlMs`; a change made
 * through any pod is announced (agent-notices.ts) and dropped from every pod's
 * cache at once, so the TTL only bounds how long a lost notice delays a
 * revocation.
 */
import type { Identity } from '../../infra/jwt.ts';
import type { AgentStanding, AgentsStore } from './agents-store.ts';

interface Cached {
  standing: AgentStanding | undefined;
  at: number;
}

export class AgentTokens {
  private readonly cache = new Map<string, Cached>();
  private readonly reading = new Map<string, Promise<AgentStanding | undefined>>();
  /** Raised by every `forget`: a read that started before it may have seen the old account and is not kept. */
  private generation = 0;

  constructor(
    private readonly agents: AgentsStore,
    private readonly opts: { ttlMs: number; maxEntries?: number },
  ) {}

  /** True for external tokens and for account tokens that still stand; a store failure rejects (the caller answers 503). */
  async isCurrent(identity: Identity): Promise<boolean> {
    if (identity.tv === undefined) return true;
    const standing = await this.standing(identity.sub);
    return standing !== undefined && !standing.disabled && standing.token_version === identity.tv && standing.role === identity.role;
  }

  /** Drops what this pod knows of `username` (it changed). */
  forget(username: string): void {
    this.cache.delete(username);
    this.reading.delete(username);
    this.generation++;
  }

  private async standing(username: string): Promise<AgentStanding | undefined> {
    const hit = this.cache.get(username);
    if (hit && Date.now() - hit.at < this.opts.ttlMs) return hit.standing;
    // One read per account at a time, however many requests and sockets ask.
    let read = this.reading.get(username);
    if (!read) {
      const at = Date.now();
      const generation = this.generation;
      const started: Promise<AgentStanding | undefined> = this.agents.standing(username).finally(() => {
        if (this.reading.get(username) === started) this.reading.delete(username);
      });
      read = started;
      this.reading.set(username, read);
      void read.then((standing) => {
        if (generation === this.generation) this.remember(username, { standing, at });
      }, () => undefined);
    }
    return read;
  }

  private remember(username: string, entry: Cached): void {
    this.cache.delete(username);
    if (this.cache.size >= (this.opts.maxEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(username, entry);
  }
}
