import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import type { AgentAvailability } from './availability.ts';
import type { TeamsStore } from './teams-store.ts';

/** A chat waiting in the Unassigned queue. */
export interface QueuedChat {
  chatId: string;
  /** When it started waiting (epoch ms): the ASSIGN event's id carries it, so one decision is one event. */
  waitingSince: number;
}

/** What the assigner needs of chats (the chat wing provides it; this wing imports none of it). */
export interface AssignmentPorts {
  /** Active unassigned chats on `channels` (or on every number but `exclude`), longest waiting first. */
  queue(numbers: { channels: readonly string[] } | { exclude: readonly string[] }, limit: number): Promise<QueuedChat[]>;
  /** Open chats (active + pending) per agent. */
  loads(agents: readonly string[]): Promise<Map<string, number>>;
  /** Sends the chat actor its ASSIGN; true when the actor took it (false: someone has it already, or it left `active`). */
  assign(chat: QueuedChat, agent: string, team: string | null): Promise<boolean>;
}

export interface AssignerOptions {
  teams: TeamsStore;
  availability: AgentAvailability;
  kv: KeyValueStore;
  ports: AssignmentPorts;
  pod: string;
  log: Logger;
  /** Chats assigned per pool per pass at most (the rest on the next pass). */
  batch?: number;
  /** How long a pass may hold the assigner lock. */
  lockTtlMs?: number;
}

const LOCK = 'inbox:assigner';
/** The last agent each pool gave a chat to: round robin continues after it, whichever pod assigns next. */
const rrKey = (pool: string) => `inbox:rr:${pool}`;
/** The pool of numbers no team maps: every online agent answers it. */
const DEFAULT_POOL = '_default';

/**
 * Round-robin assignment, one pass at a time across all pods (a Redis lock):
 * for each team (and the default pool), the longest-waiting unassigned chat
 * goes to the next online agent after the last one chosen who has fewer open
 * chats than the cap. The chat actor decides (ASSIGN is refused by a chat
 * someone already has), so a stale pass can never assign twice.
 * `kick()` asks for a pass soon; a kick while the lock is held elsewhere
 * retries shortly, and a periodic pass is the backstop.
 */
export class Assigner {
  private running: Promise<number> | undefined;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: AssignerOptions) {}

  /** Asks for a pass soon (coalesced: a pass already running runs once more after). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => {
        this.opts.log.warn({ err }, 'assignment pass failed; retried shortly');
        this.later();
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass now, if no other pod is running one (false: another held the lock; a retry is scheduled). Resolves to how many chats were assigned. */
  async pass(): Promise<number> {
    const ttl = this.opts.lockTtlMs ?? 30_000;
    const fence = await this.opts.kv.acquireLock(LOCK, this.opts.pod, ttl);
    if (fence === null) {
      this.later();
      return 0;
    }
    try {
      const stillHolds = () => this.opts.kv.extendLock(LOCK, this.opts.pod, ttl);
      const [teams, settings] = await Promise.all([this.opts.teams.all(), this.opts.teams.getSettings()]);
      const mapped = teams.flatMap((t) => t.numbers);
      let assigned = 0;
      for (const team of teams) assigned += await this.fill(team.id, team.id, await this.opts.availability.available(team.agents), { channels: team.numbers }, settings.agent_cap, stillHolds);
      assigned += await this.fill(DEFAULT_POOL, null, await this.opts.availability.available(), { exclude: mapped }, settings.agent_cap, stillHolds);
      return assigned;
    } finally {
      await this.opts.kv.releaseLock(LOCK, this.opts.pod).catch(() => undefined);
    }
  }

  /** Stops kicking; waits for a running pass (bounded). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.running) await Promise.race([this.running, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private async fill(pool: string, team: string | null, agents: string[], numbers: Parameters<AssignmentPorts['queue']>[0], cap: number, stillHolds: () => Promise<boolean>): Promise<number> {
    if (agents.length === 0) return 0;
    if ('channels' in numbers && numbers.channels.length === 0) return 0;
    const loads = await this.opts.ports.loads(agents);
    if (!agents.some((a) => (loads.get(a) ?? 0) < cap)) return 0;
    const queue = await this.opts.ports.queue(numbers, this.opts.batch ?? 50);
    let last = await this.opts.kv.get(rrKey(pool));
    let assigned = 0;
    for (const chat of queue) {
      const agent = nextAfter(agents.filter((a) => (loads.get(a) ?? 0) < cap), last);
      if (agent === undefined) break;
      if (!(await stillHolds())) break; // this pod stalled past the lock: another pass owns the queue now
      if (await this.opts.ports.assign(chat, agent, team)) {
        loads.set(agent, (loads.get(agent) ?? 0) + 1);
        last = agent;
        await this.opts.kv.set(rrKey(pool), agent);
        assigned++;
      }
    }
    if (assigned) this.opts.log.info({ pool, assigned }, 'chats assigned round robin');
    return assigned;
  }

  private later(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, 250);
    this.retry.unref();
  }
}

/** The first of the sorted `agents` after `last` (cyclic), or the first when `last` is none of them. */
export function nextAfter(agents: readonly string[], last: string | null): string | undefined {
  if (agents.length === 0) return undefined;
  const i = last === null ? -1 : agents.findIndex((a) => a > last);
  return agents[i === -1 ? 0 : i];
}
