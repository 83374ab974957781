import type { Logger } from '../../infra/logger.ts';

/** Marks a chat read for an agent up to a message (`ChatService.markRead`). */
export type MarkRead = (agent: string, chatId: string, upTo: number) => Promise<void>;

/**
 * Messages shown to agents with the chat open advance their read cursors, so
 * the unread badge of a chat an agent is looking at does not grow. One read
 * per agent and chat is in flight at a time; messages shown meanwhile are
 * folded into one more read of the highest. So a busy chat costs at most two
 * reads per agent, not one per message, and memory holds only reads in flight.
 */
export class ShownReads {
  /** `${agent}\n${chatId}` → the highest seq still to mark once the read in flight is done. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly mark: MarkRead,
    private readonly log: Logger,
  ) {}

  /** Message `seq` of `chatId` was pushed to `agent`. */
  shown(agent: string, chatId: string, seq: number): void {
    const key = `${agent}\n${chatId}`;
    const waiting = this.inFlight.get(key);
    if (waiting !== undefined) return void this.inFlight.set(key, Math.max(waiting, seq));
    this.inFlight.set(key, 0);
    void this.run(key, agent, chatId, seq);
  }

  /** Reads in flight or waiting (for tests and metrics). */
  get pending(): number {
    return this.inFlight.size;
  }

  private async run(key: string, agent: string, chatId: string, seq: number): Promise<void> {
    for (let upTo = seq; ; ) {
      try {
        await this.mark(agent, chatId, upTo);
      } catch (err) {
        // A lost mark only leaves a badge one message high until the chat is opened again.
        this.log.debug({ err, agent, chat: chatId }, 'marking a shown message read failed');
      }
      const next = this.inFlight.get(key) ?? 0;
      if (next <= upTo) return void this.inFlight.delete(key);
      this.inFlight.set(key, 0);
      upTo = next;
    }
  }
}
