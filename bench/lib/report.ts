/**
 * Benchmark results: one row per measured number, written to
 * `bench/results/<scenario>.json` (full runs) or `bench/results/quick/` (quick
 * runs), and printed as a table with each number's ratio to its same-run baseline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { round } from './stats.ts';

export type Mode = 'quick' | 'full';

export interface Row {
  scenario: string;
  metric: string;
  /** What was measured (`smart-chat embedded`, `fastify`, …). */
  subject: string;
  value: number;
  unit: string;
  /** Which direction is better: the ratio is always "times better than the baseline". */
  better: 'higher' | 'lower';
  baseline: string | null;
  baseline_value: number | null;
  /** value / baseline_value when higher is better, baseline_value / value when lower is better (> 1: ahead of the baseline). */
  ratio: number | null;
  /** The target, when it sets one, and whether this run met it. */
  target?: string;
  target_met?: boolean;
  notes?: string;
  mode: Mode;
  /** 1-minute load average when the scenario finished: other work on the machine shows here. */
  load1: number;
  node: string;
  cpus: number;
  date: string;
}

export type Measured = Pick<Row, 'metric' | 'subject' | 'value' | 'unit' | 'better'> & Partial<Pick<Row, 'target' | 'target_met' | 'notes'>>;

export const RESULTS_DIR = join(import.meta.dirname, '..', 'results');

export function resultsDir(mode: Mode): string {
  return mode === 'full' ? RESULTS_DIR : join(RESULTS_DIR, 'quick');
}

/** Collects one scenario's rows; `compare` pairs a number with a baseline measured in the same run. */
export class Report {
  readonly rows: Row[] = [];
  private readonly date = new Date().toISOString();

  constructor(
    readonly scenario: string,
    readonly mode: Mode,
  ) {}

  /** A number with no baseline (a baseline itself, or a plain measurement). */
  add(m: Measured): Row {
    return this.push(m, null);
  }

  /** A number with its ratio to `base` (which must measure the same metric and unit). */
  compare(m: Measured, base: { subject: string; value: number; unit: string }): Row {
    if (base.unit !== m.unit) throw new Error(`cannot compare ${m.unit} with ${base.unit}`);
    return this.push(m, base);
  }

  private push(m: Measured, base: { subject: string; value: number } | null): Row {
    const ratio = base === null ? null : m.better === 'higher' ? m.value / base.value : base.value / m.value;
    const row: Row = {
      scenario: this.scenario,
      metric: m.metric,
      subject: m.subject,
      value: round(m.value),
      unit: m.unit,
      better: m.better,
      baseline: base?.subject ?? null,
      baseline_value: base === null ? null : round(base.value),
      ratio: ratio === null || !Number.isFinite(ratio) ? null : round(ratio, ratio < 0.1 ? 4 : 2),
      ...(m.target ? { target: m.target, target_met: m.target_met ?? false } : {}),
      ...(m.notes ? { notes: m.notes } : {}),
      mode: this.mode,
      load1: 0,
      node: process.version,
      cpus: cpus().length,
      date: this.date,
    };
    this.rows.push(row);
    return row;
  }

  /** Writes the JSON file and prints the table. */
  finish(): void {
    const load1 = round(loadavg()[0] ?? 0, 2);
    for (const r of this.rows) r.load1 = load1;
    const dir = resultsDir(this.mode);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.scenario}.json`), `${JSON.stringify(this.rows, null, 2)}\n`);
    process.stdout.write(`\n${formatTable(this.scenario, this.rows)}\n`);
  }
}

/** A plain-text table (also used, as Markdown, in BENCHMARKS.md). */
export function formatTable(title: string, rows: readonly Row[], markdown = false): string {
  const head = ['metric', 'subject', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.metric,
    r.subject,
    fmt(r.value),
    r.unit,
    r.baseline ?? '—',
    r.baseline_value === null ? '—' : fmt(r.baseline_value),
    r.ratio === null ? '—' : `${r.ratio}×`,
    r.target ? `${r.target} ${r.target_met ? '✅' : '❌'}` : '',
  ]);
  if (markdown) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((cells) => `| ${cells.map(esc).join(' | ')} |`)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [`== ${title}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function fmt(v: number | null): string {
  // NaN (nothing to measure: e.g. no message arrived in time) is stored as null.
  if (v === null || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(round(v, Math.abs(v) >= 10 ? 1 : 3));
}

export interface Machine {
  cpu: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  return { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 1), kernel: release(), node: process.version };
}
