/**
 * The reports of the console's Reports page, computed from the conversation
 * log: conversations opened and resolved per UTC day, first-response and
 * resolution times (median and p90) by agent, team and number, CSAT score and
 * response rate, and the same as CSV.
 *
 * A range is read one day at a time through the day indexes (a handful of
 * days in parallel), so a report costs the conversations of its range, never
 * the whole collection nor any message. Percentiles are nearest-rank over the
 * exact durations.
 */
import { channelById } from '../../domain/channels.ts';
import type { ConversationFacts, ConversationLog } from './conversation-log.ts';

/** The longest range a report covers (a quarter and a day); bounds what one request reads. */
export const MAX_REPORT_DAYS = 92;
/** Days read at once. */
const DAY_READS = 4;
const DAY_MS = 86_400_000;

export interface TimeStats {
  /** Conversations with this time. */
  count: number;
  median_s: number | null;
  p90_s: number | null;
}

export interface CsatStats {
  /** Rating questions sent. */
  asked: number;
  /** Answers received. */
  rated: number;
  /** rated / asked, 0–1 (null when nothing was asked). */
  response_rate: number | null;
  /** The mean rating, 1–3. */
  average: number | null;
  /** Share of ratings that were 3 (good), 0–1: the CSAT score. */
  score: number | null;
  counts: { good: number; okay: number; poor: number };
}

export interface GroupFigures {
  key: string;
  /** What the console shows for the key (an agent's username, a team, a number with its customer type). */
  label: string;
  opened: number;
  /** Of those opened, how many are resolved now. */
  resolved: number;
  first_response: TimeStats;
  resolution: TimeStats;
  csat: CsatStats;
}

export interface ConversationReport {
  from: string;
  to: string;
  /** Every day of the range, with conversations opened and resolved on it. */
  days: { day: string; opened: number; resolved: number }[];
  totals: GroupFigures;
  by_agent: GroupFigures[];
  by_team: GroupFigures[];
  by_number: GroupFigures[];
}

/** The UTC days from `from` to `to`, both included (`YYYY-MM-DD`); the caller checked the order and length. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const NO_AGENT = '(unassigned)';
const NO_TEAM = '(no team)';

class Tally {
  opened = 0;
  resolved = 0;
  firstResponse: number[] = [];
  resolution: number[] = [];
  asked = 0;
  ratings = [0, 0, 0];

  add(c: ConversationFacts): void {
    this.opened++;
    if (c.resolved_at) this.resolved++;
    if (typeof c.first_response_ms === 'number') this.firstResponse.push(c.first_response_ms);
    if (typeof c.resolution_ms === 'number') this.resolution.push(c.resolution_ms);
    if (c.csat_asked_at) this.asked++;
    if (c.csat_score === 1 || c.csat_score === 2 || c.csat_score === 3) this.ratings[c.csat_score - 1]!++;
  }

  figures(key: string, label: string): GroupFigures {
    const rated = this.ratings[0]! + this.ratings[1]! + this.ratings[2]!;
    return {
      key,
      label,
      opened: this.opened,
      resolved: this.resolved,
      first_response: times(this.firstResponse),
      resolution: times(this.resolution),
      csat: {
        asked: this.asked,
        rated,
        response_rate: this.asked ? round(rated / this.asked, 4) : null,
        average: rated ? round((this.ratings[0]! + 2 * this.ratings[1]! + 3 * this.ratings[2]!) / rated, 2) : null,
        score: rated ? round(this.ratings[2]! / rated, 4) : null,
        counts: { poor: this.ratings[0]!, okay: this.ratings[1]!, good: this.ratings[2]! },
      },
    };
  }
}

function times(ms: number[]): TimeStats {
  const sorted = ms.sort((a, b) => a - b);
  const s = (v: number | null) => (v === null ? null : round(v / 1000, 1));
  return { count: sorted.length, median_s: s(percentile(sorted, 50)), p90_s: s(percentile(sorted, 90)) };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function numberLabel(channel: string): string {
  const c = channelById(channel);
  return c ? `${c.customerType} ${c.id}` : channel;
}

export class ConversationReports {
  constructor(private readonly log: ConversationLog) {}

  /** The report of `from`–`to` (UTC days, both included). */
  async report(from: string, to: string): Promise<ConversationReport> {
    const days = daysBetween(from, to);
    const perDay = await mapBounded(days, DAY_READS, async (day) => ({ day, opened: await this.log.openedOn(day), resolved: await this.log.resolvedOn(day) }));
    const totals = new Tally();
    const groups = { agent: new Map<string, Tally>(), team: new Map<string, Tally>(), number: new Map<string, Tally>() };
    const tally = (m: Map<string, Tally>, key: string) => m.get(key) ?? m.set(key, new Tally()).get(key)!;
    for (const { opened } of perDay) {
      for (const c of opened) {
        totals.add(c);
        tally(groups.agent, c.assignee ?? c.first_response_agent ?? NO_AGENT).add(c);
        tally(groups.team, c.team ?? NO_TEAM).add(c);
        tally(groups.number, c.channel ?? 'unknown').add(c);
      }
    }
    const list = (m: Map<string, Tally>, label: (k: string) => string) =>
      [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, t]) => t.figures(k, label(k)));
    return {
      from,
      to,
      days: perDay.map((d) => ({ day: d.day, opened: d.opened.length, resolved: d.resolved })),
      totals: totals.figures('all', 'All conversations'),
      by_agent: list(groups.agent, (k) => k),
      by_team: list(groups.team, (k) => k),
      by_number: list(groups.number, numberLabel),
    };
  }
}

const CSV_COLUMNS = [
  'dimension', 'key', 'label', 'opened', 'resolved',
  'first_response_median_s', 'first_response_p90_s', 'resolution_median_s', 'resolution_p90_s',
  'csat_asked', 'csat_rated', 'csat_response_rate', 'csat_average', 'csat_score',
] as const;

/** The report as CSV (RFC 4180): one row per day (opened and resolved that day), then one per agent, team and number, then the totals. */
export function reportCsv(r: ConversationReport): string {
  const rows: (string | number | null)[][] = [[...CSV_COLUMNS]];
  for (const d of r.days) rows.push(['day', d.day, d.day, d.opened, d.resolved, null, null, null, null, null, null, null, null, null]);
  const group = (dimension: string, g: GroupFigures) => [
    dimension, g.key, g.label, g.opened, g.resolved,
    g.first_response.median_s, g.first_response.p90_s, g.resolution.median_s, g.resolution.p90_s,
    g.csat.asked, g.csat.rated, g.csat.response_rate, g.csat.average, g.csat.score,
  ];
  for (const g of r.by_agent) rows.push(group('agent', g));
  for (const g of r.by_team) rows.push(group('team', g));
  for (const g of r.by_number) rows.push(group('number', g));
  rows.push(group('total', r.totals));
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @ is prefixed with ' so a spreadsheet never runs it as a formula. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** `fn` over `items`, at most `limit` at once, results in order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
