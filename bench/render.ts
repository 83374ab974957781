/**
 * Regenerates BENCHMARKS.md from the latest full run (`bench/results/*.json`,
 * `bench/results/machine.json`) and the hand-written analysis in
 * `bench/notes.md`. `node --import tsx bench/render.ts` re-renders without running anything.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './lib/proc.ts';
import { formatTable, RESULTS_DIR, type Machine, type Row } from './lib/report.ts';
import { readResults, SCENARIO_ORDER } from './lib/results.ts';

export interface RunInfo extends Machine {
  date: string;
  commit: string;
  uws: string;
  seconds?: number;
}

const TITLES: Record<string, string> = {
  ingest: '1. Webhook ingest',
  'message-to-agent': '2. Message to agent',
  fanout: '3. Fan-out',
  density: '4. Actor density',
  history: '5. Agent history',
  reports: '6. Conversation reports',
  soak: '7. Soak (`npm run bench -- --only=soak`)',
  handover: '8. Shard hand-over under load (a pod joins, a pod stops)',
};

/**
 * Issue 16's table: each target with the issue's "now" column (BENCHMARKS.md before any of its work), the
 * previous session's runs (the ninth round: three full runs on this machine, as ranges) and this run's, found by scenario, metric and subject.
 */
interface RoundRow {
  what: string;
  last: string;
  /** The ninth round's figures (bench/notes.md "Ninth round": three full runs on the same machine, as ranges; the soak's from its own run). */
  previous: string;
  find: { scenario: string; metric: string; subject: string; baseline?: string };
  /** How this run's row reads: its value with its unit, or its value over its baseline ("× the floor"). */
  show: 'value' | 'times-baseline';
  target: string;
}

const ROUND: RoundRow[] = [
  { what: 'Redis + MongoDB test server, one pod: pod CPU per applied event', last: '~666 µs', previous: '261.5–318.1 µs (261–267 on a normal test server)', find: { scenario: 'ingest', metric: 'pod CPU per applied event (no pipelining)', subject: 'smart-chat redis+mongo' }, show: 'value', target: '≤ 250 µs' },
  { what: 'same: sustained events applied/s, closed loop', last: '680–1,100 /s', previous: '2,283–2,738 /s', find: { scenario: 'ingest', metric: 'events applied/s (no pipelining)', subject: 'smart-chat redis+mongo' }, show: 'value', target: '≥ 2,500 /s' },
  { what: 'same: message→agent p99 at 1,000 msg/s, open loop', last: '12,966 ms', previous: '34.3–55.3 ms', find: { scenario: 'message-to-agent', metric: 'p99 webhook → agent push @1k msg/s', subject: 'smart-chat redis+mongo, 1 pod' }, show: 'value', target: '< 50 ms' },
  { what: 'two pods (POST to pod 1, agent on pod 2): message→agent p99 at 1,000 msg/s', last: '2,161 ms', previous: '36.5–46.3 ms', find: { scenario: 'message-to-agent', metric: 'p99 webhook → agent push @1k msg/s', subject: 'smart-chat redis+mongo, POST to pod 1, agent on pod 2' }, show: 'value', target: '< 50 ms' },
  { what: 'store floor for latency: p99 of the same writes through the driver at 1,000 events/s, open loop (no runtime)', last: '—', previous: '30.0–84.7 ms', find: { scenario: 'message-to-agent', metric: 'p99 one event stored @1k/s (the latency floor)', subject: 'store floor: the same writes through the driver, no runtime' }, show: 'value', target: '(the floor)' },
  { what: 'store floor: the same documents per event straight through the driver, events/s', last: '—', previous: '5,066 /s (third run)', find: { scenario: 'ingest', metric: 'events written/s (closed loop)', subject: 'store floor: the same documents through the driver' }, show: 'value', target: '(the floor)' },
  { what: 'the runtime against the store floor (events applied/s ÷ floor)', last: '—', previous: '0.42–0.54×', find: { scenario: 'ingest', metric: 'events applied/s against the store floor', subject: 'smart-chat redis+mongo' }, show: 'times-baseline', target: '≥ 0.5× the floor' },
  { what: 'embedded: webhooks accepted and applied per second', last: '2,398 /s applied (3,297 req/s acked)', previous: '8,776–10,773 /s', find: { scenario: 'ingest', metric: 'events applied/s (no pipelining)', subject: 'smart-chat embedded' }, show: 'value', target: '≥ 10,000 /s' },
  { what: 'embedded: acknowledged req/s against node:http parse + ack', last: '0.14×', previous: '0.14–0.16×', find: { scenario: 'ingest', metric: 'req/s (no pipelining)', subject: 'smart-chat embedded', baseline: 'node:http JSON 200' }, show: 'times-baseline', target: '≥ 0.5×' },
  { what: 'embedded: p99 ack at 5,000 req/s, open loop', last: '—', previous: '4.5–59.0 ms', find: { scenario: 'ingest', metric: 'p99 ack (at 5k req/s)', subject: 'smart-chat embedded' }, show: 'value', target: '< 10 ms' },
  { what: 'fan-out to 1,000 sockets, p99 against the bare loopback writer floor', last: '1.38× the floor', previous: '1.17–1.31×', find: { scenario: 'fanout', metric: 'p99 publish → last of 1000 sockets, against the floor', subject: 'smart-chat, 1 pod' }, show: 'times-baseline', target: '≤ 1.2× the floor' },
  { what: 'soak (two pods, 10 min at 500 msg/s): last window p99 ÷ first', last: '—', previous: '16.7× (serial-GC spikes of the test server)', find: { scenario: 'soak', metric: 'p99 last window / first window', subject: 'smart-chat redis+mongo, 2 pods, POST to pod 1, agent on pod 2' }, show: 'value', target: '≤ 1.2' },
  { what: 'soak: RSS growth after warm-up (larger pod)', last: '—', previous: '+0.9 %', find: { scenario: 'soak', metric: 'RSS growth after warm-up', subject: 'smart-chat redis+mongo, 2 pods, POST to pod 1, agent on pod 2' }, show: 'value', target: '≤ 10 %' },
  { what: 'soak: Redis used_memory growth after warm-up', last: '—', previous: '−0.01 %', find: { scenario: 'soak', metric: 'Redis used_memory growth after warm-up', subject: 'smart-chat redis+mongo, 2 pods, POST to pod 1, agent on pod 2' }, show: 'value', target: '≤ 10 %' },
  { what: 'soak: acknowledged messages never pushed (lost)', last: '—', previous: '0', find: { scenario: 'soak', metric: 'acknowledged, never pushed (lost)', subject: 'smart-chat redis+mongo, 2 pods, POST to pod 1, agent on pod 2' }, show: 'value', target: '0' },
];

function roundTable(all: readonly Row[]): string {
  const num = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * (Math.abs(v) >= 10 ? 10 : 1000)) / (Math.abs(v) >= 10 ? 10 : 1000)));
  const lines = ['| what | the issue\'s "now" | previous session (ninth round, three runs) | this run | target |', '|---|---|---|---|---|'];
  for (const r of ROUND) {
    const row = all.find((x) => x.scenario === r.find.scenario && x.metric === r.find.metric && x.subject === r.find.subject && (r.find.baseline === undefined || x.baseline === r.find.baseline));
    let now = '(not measured in this run)';
    if (row && row.value !== null && !Number.isNaN(row.value)) {
      if (r.show === 'times-baseline' && row.baseline_value) {
        const times = row.value / row.baseline_value;
        now = `${num(times)}× (${num(row.value)} ${row.unit} vs ${num(row.baseline_value)})`;
      } else now = `${num(row.value)} ${row.unit}`;
      if (row.target) now += row.target_met ? ' ✅' : ' ❌';
    }
    lines.push(`| ${r.what} | ${r.last} | ${r.previous} | ${now} | ${r.target} |`);
  }
  return lines.join('\n');
}

export function renderBenchmarks(): void {
  const infoFile = join(RESULTS_DIR, 'machine.json');
  const info = existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as RunInfo) : undefined;
  const notesFile = join(BENCH_DIR, 'notes.md');
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';
  const all = SCENARIO_ORDER.flatMap((s) => readResults('full', s));
  const targets = all.filter((r) => r.target);

  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/render.ts from bench/results/*.json and bench/notes.md: edit those, not this file. -->',
    '',
    'The latest full run of `npm run bench` (`npm run bench:quick` is the 2½-minute version; its results go to',
    '`bench/results/quick/` and do not change this page). Every number is compared with a baseline measured in the',
    'same run on the same machine; **ratio** is "times better than the baseline" (higher-is-better numbers:',
    'value / baseline; lower-is-better numbers: baseline / value), so above 1 means ahead of it.',
    '',
    '## Machine',
    '',
    info
      ? [
          `| | |`,
          `|---|---|`,
          `| CPU | ${info.cpu} × ${info.cpus} (shared by servers, load generators, Redis and the MongoDB test server) |`,
          `| memory | ${info.memoryGiB} GiB |`,
          `| kernel | Linux ${info.kernel} |`,
          `| Node.js | ${info.node} |`,
          `| uWebSockets.js | ${info.uws} |`,
          `| commit | ${info.commit} |`,
          `| run | ${info.date}${info.seconds ? `, ${Math.round(info.seconds)} s` : ''} |`,
        ].join('\n')
      : '(no full run recorded yet: run `npm run bench`)',
    '',
    '## How it is measured',
    '',
    '- Loopback only (127.0.0.1). Servers under test ("pods") run in their own Node processes (`bench/servers/pod.ts`),',
    '  load generators in others (`bench/loadgen/`), so a server never shares an event loop with its load; on two',
    '  cores they do share the CPU, as the issue says.',
    '- HTTP load comes from an in-repo client (`bench/lib/http-load.ts`): raw keep-alive sockets, optional',
    '  pipelining, distinct webhooks stamped from a byte template, every latency kept as a float (autocannon',
    '  records whole milliseconds and bursts its rate limit at the start of each second, which hides sub-ms',
    '  percentiles and the 10k req/s target). Open-loop runs (a fixed rate) time each request from when it was',
    '  due, so a server that falls behind shows its backlog instead of slowing the generator down.',
    '- WebSocket clients are raw sockets with a minimal frame reader (`bench/lib/agent-sockets.ts`): the `ws`',
    '  library cost ~40 µs per frame, which alone made 1,000 sockets take ~40 ms per round for every server.',
    '- Every loop is bounded in count and time; every child process has a hard lifetime; `bench/run.ts` kills a',
    '  scenario that overruns.',
    '- Profiles: `node --import tsx bench/profile.ts ingest-embedded|ingest-mongo|fanout|history-embedded` runs one',
    '  server under load with `--cpu-prof` and summarises it (self time by package / src file, time by the innermost',
    '  src/ caller, top functions); `BENCH_CPU_PROF=<dir> npm run bench -- --only=ingest` profiles every pod of a run.',
    '',
    '## Issue 16: the production path against the store\'s floor (this round beside the last)',
    '',
    'The issue\'s "now": BENCHMARKS.md before any of its work. Previous session: the ninth round, three full runs',
    'on this same machine (two cores of an AMD EPYC, quiet; the rounds before the eighth ran on an Intel Xeon about',
    'half as fast per core), given as the range of the three. This run: the run below (tenth round in the notes).',
    'Each figure\'s row, notes and load average are in its scenario\'s table. The soak runs only with',
    '`npm run bench -- --only=soak` (ten minutes), so its figures come from that run.',
    '',
    roundTable(all),
    '',
    '## Targets',
    '',
    targets.length ? formatTable('targets', targets, true) : '(none recorded)',
    '',
  ];
  for (const s of SCENARIO_ORDER) {
    const rows = all.filter((r) => r.scenario === s);
    out.push(`## ${TITLES[s]}`, '', rows.length ? formatTable(s, rows, true) : '(not run)', '');
    const withNotes = rows.filter((r) => r.notes);
    if (withNotes.length) {
      out.push(...withNotes.map((r) => `- *${r.metric}, ${r.subject}*: ${r.notes}`), '');
    }
  }
  if (notes) out.push(notes, '');
  writeFileSync(join(BENCH_DIR, '..', 'BENCHMARKS.md'), out.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) renderBenchmarks();
