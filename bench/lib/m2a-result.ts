/** What the agents load generator's `m2a` command answers (bench/loadgen/agents.ts): message → agent timings. */
import type { Summary } from './stats.ts';

/** The messages due within one window (`windowMs`), timed like the whole run. */
export interface LatencyWindow {
  /** When the window's first message was due, in s from the load's start. */
  fromS: number;
  count: number;
  missing: number;
  refused: number;
  latencyMs: Summary;
}

export interface M2aResult {
  /** Acknowledged (2xx) and never pushed to the agent. */
  lost: number;
  windows: LatencyWindow[];
  acked: number;
  sent: number;
  due: number;
  rps: number;
  ackMs: Summary;
  non2xx: number;
  frames: number;
  /** Messages due after the warm-up, and those of them that had not reached the agent when measuring stopped. */
  measured: number;
  missing: number;
  latencyMs: Summary;
  scheduleLagMsP99: number;
}
