import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';

const CHANNEL = 'agents:changed';

/**
 * "This account changed", to every pod (Redis Pub/Sub; in-process in
 * embedded mode): each drops its cached standing of the account and re-checks
 * the account's open WebSockets. At most once by nature, which is why the
 * token check's cache also expires on its own (agent-tokens.ts).
 */
export class AgentNotices {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly log: Logger,
  ) {}

  announce(username: string): void {
    this.kv.publish(CHANNEL, username).catch((err: unknown) => this.log.warn({ err, username }, 'announcing an account change failed; other pods see it when their cache expires'));
  }

  /** Calls `handler` with the username of every change announced by any pod, this one included. */
  listen(handler: (username: string) => void): Promise<() => Promise<void>> {
    return this.kv.subscribe(CHANNEL, handler);
  }
}
