/**
 * Child process: agent WebSockets as the load generator sees them.
 *
 * - `connect` opens N sockets (smart-chat or socket.io protocol);
 * - `fanout` runs rounds of "one push, every socket must get it", triggered
 *   through the parent (which tells the pod to publish) or by a real customer
 *   webhook, and times each round until the last socket has its frame;
 * - `m2a` POSTs webhooks at a fixed rate while one dashboard socket listens,
 *   timing each message from its POST to its first push frame.
 */
import { openSockets, type AgentSockets, type Protocol } from '../lib/agent-sockets.ts';
import { runHttpLoad, type HttpLoadSpec } from '../lib/http-load.ts';
import { askParent, serveCommands } from '../lib/proc.ts';
import { Samples, summarize } from '../lib/stats.ts';
import type { LatencyWindow, M2aResult } from '../lib/m2a-result.ts';
import { webhookTemplate, WEBHOOK_PATH } from '../lib/webhook-body.ts';

let agents: AgentSockets | undefined;

interface FanoutArgs {
  rounds: number;
  via: 'parent' | 'webhook';
  /** `webhook`: where to POST and as which customer. */
  port?: number;
  customer?: string;
  gapMs: number;
  roundTimeoutMs: number;
  warmupRounds: number;
  /** The run stops after this long even if rounds are left. */
  maxMs: number;
}

async function fanout(a: FanoutArgs) {
  if (!agents) throw new Error('connect first');
  const set = agents;
  const n = set.count;
  const last: number[] = [];
  const first: number[] = [];

  let incomplete = 0;
  let roundsRun = 0;
  const started = performance.now();
  for (let round = 0; round < a.rounds && performance.now() - started < a.maxMs; round++) {
    const marker = `FANOUT${process.pid}x${round}x`;
    const needle = Buffer.from(marker);
    const got = new Uint8Array(n);
    let have = 0;
    let t0 = 0;
    let firstAt = 0;
    let lastAt = 0;
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), a.roundTimeoutMs);
      set.onFrame = (i, payload) => {
        if (got[i] || payload.indexOf(needle) < 0) return;
        got[i] = 1;
        const now = performance.now();
        if (have++ === 0) firstAt = now;
        if (have === n) {
          lastAt = now;
          clearTimeout(timer);
          resolve(true);
        }
      };
    });
    t0 = performance.now();
    roundsRun++;
    if (a.via === 'parent') await askParent('publish', { marker });
    else {
      const body = webhookTemplate(marker)
        .replaceAll('CCCCCCCC', a.customer!.slice(2))
        .replaceAll('IIIIIIIIIIII', String(round).padStart(12, '0'))
        .replace('ref TTTTTTTTTTTT', marker);
      const res = await fetch(`http://127.0.0.1:${a.port}${WEBHOOK_PATH}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    }
    const complete = await done;
    if (round < a.warmupRounds) {
      // JIT and buffers warming up: not timed.
    } else if (complete) {
      last.push(lastAt - t0);
      first.push(firstAt - t0);
    } else incomplete++;
    set.onFrame = () => undefined;
    await new Promise((r) => setTimeout(r, a.gapMs));
  }
  return { sockets: n, rounds: last.length, incomplete, lastMs: summarize(last), firstMs: summarize(first), roundsRun };
}

interface M2aArgs {
  wsUrl: string;
  spec: Omit<HttpLoadSpec, 'path'>;
  /** How long to wait for pushes still on their way after the last POST. */
  drainMs: number;
  /** Also summarise each window of this many ms (by when messages were due): the soak's minute-by-minute p99. */
  windowMs?: number;
}

async function messageToAgent(a: M2aArgs): Promise<M2aResult> {
  const dashboard = await openSockets([a.wsUrl], 1, 'smart-chat');
  const cap = Math.ceil(((a.spec.rate ?? 1000) * a.spec.durationMs) / 1000) + 1000;
  const sentAt = new Float64Array(Math.min(cap, a.spec.maxRequests));
  const arrived = new Float64Array(sentAt.length);
  /** 1: acknowledged with a 2xx (durable: must reach the agent), 2: refused. */
  const answered = new Uint8Array(sentAt.length);
  let frames = 0;
  const ref = Buffer.from('ref ');
  dashboard.onFrame = (_i, payload) => {
    frames++;
    const at = payload.indexOf(ref);
    if (at < 0) return;
    const n = Number(payload.toString('latin1', at + 4, at + 16));
    if (Number.isInteger(n) && n < arrived.length && arrived[n] === 0) arrived[n] = performance.now();
  };
  // Timed from when each message was due (open loop), so a backed-up client cannot hide a slow server.
  const load = await runHttpLoad({ ...a.spec, path: WEBHOOK_PATH, maxRequests: sentAt.length }, (n, _writtenAt, intendedAt) => {
    if (n < sentAt.length) sentAt[n] = intendedAt;
  }, (n, status) => {
    if (n < answered.length) answered[n] = status >= 200 && status < 300 ? 1 : 2;
  });
  const until = performance.now() + a.drainMs;
  const rate = a.spec.rate ?? 1000;
  const due = (k: number) => load.startedAt + (k * 1000) / rate;
  const firstTimed = Math.ceil((a.spec.warmupMs * rate) / 1000);
  const lastDue = Math.min(load.scheduled, sentAt.length);
  const missing = () => {
    let m = 0;
    for (let k = firstTimed; k < lastDue; k++) if (arrived[k] === 0) m++;
    return m;
  };
  while (missing() > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  // Messages due after the warm-up, timed from when they were due; one that never reached the agent
  // (or was never even sent: the server could not take it) counts with a lower bound, run end minus due time.
  const end = performance.now();
  const lat = new Samples();
  for (let k = firstTimed; k < lastDue; k++) lat.add((arrived[k]! > 0 ? arrived[k]! : end) - due(k));
  await dashboard.close();
  // Acknowledged (made durable) and never pushed to the agent: lost, as far as the agent can tell.
  let lost = 0;
  for (let k = 0; k < lastDue; k++) if (answered[k] === 1 && arrived[k] === 0) lost++;
  const windows: LatencyWindow[] = [];
  if (a.windowMs) {
    const perWindow = Math.max(1, Math.round((a.windowMs * rate) / 1000));
    for (let from = firstTimed; from < lastDue; from += perWindow) {
      const w = new Samples();
      let missed = 0;
      let refused = 0;
      for (let k = from; k < Math.min(lastDue, from + perWindow); k++) {
        // A refused message (503: load shedding) was never taken: a real sender retries it. Counted apart, not timed.
        if (answered[k] === 2) {
          refused++;
          continue;
        }
        w.add((arrived[k]! > 0 ? arrived[k]! : end) - due(k));
        if (arrived[k] === 0) missed++;
      }
      windows.push({ fromS: (due(from) - load.startedAt) / 1000, count: w.count, missing: missed, refused, latencyMs: w.summary() });
    }
  }
  return { lost, windows, acked: answered.reduce((x, v) => x + (v === 1 ? 1 : 0), 0), sent: load.sent, due: lastDue - firstTimed, rps: load.rps, ackMs: load.latencyMs, non2xx: load.non2xx, frames, measured: lat.count, missing: missing(), latencyMs: lat.summary(), scheduleLagMsP99: load.scheduleLagMsP99 };
}

serveCommands(
  async (cmd, args) => {
    switch (cmd) {
      case 'connect':
        await agents?.close();
        // `urls`: sockets go to them round-robin (one URL per pod).
        agents = await openSockets((args.urls as string[] | undefined) ?? [String(args.url)], Number(args.count), args.protocol as Protocol);
        return agents.count;
      case 'fanout':
        return fanout(args as unknown as FanoutArgs);
      case 'm2a':
        return messageToAgent(args as unknown as M2aArgs);
      case 'close':
        await agents?.close();
        agents = undefined;
        return true;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  },
  async () => void (await agents?.close()),
);
