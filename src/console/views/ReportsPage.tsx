import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { authFetch, getJson } from '../lib/api.ts';
import { session } from '../lib/session.ts';

interface TimeStats { count: number; median_s: number | null; p90_s: number | null }
interface Group {
  key: string;
  label: string;
  opened: number;
  resolved: number;
  first_response: TimeStats;
  resolution: TimeStats;
  csat: { asked: number; rated: number; response_rate: number | null; average: number | null; score: number | null; counts: { good: number; okay: number; poor: number } };
}
interface Report { from: string; to: string; days: { day: string; opened: number; resolved: number }[]; totals: Group; by_agent: Group[]; by_team: Group[]; by_number: Group[] }

const DAY_MS = 86_400_000;
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** 42 s, 3 min 20 s, 2 h 5 min; — when there is no figure. */
export function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${Math.round(s)} s`;
  const part = (n: number, unit: string) => (n ? ` ${n} ${unit}` : '');
  if (s < 3600) return `${Math.floor(s / 60)} min${part(Math.round(s % 60), 's')}`;
  return `${Math.floor(s / 3600)} h${part(Math.round((s % 3600) / 60), 'min')}`;
}
const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)} %`);

/** Opened and resolved per day as grouped bars, drawn here (no chart library, nothing from a CDN). */
function DaysChart({ days }: { days: Report['days'] }) {
  const W = 720, H = 220, left = 36, bottom = 40, top = 10;
  const max = Math.max(1, ...days.flatMap((d) => [d.opened, d.resolved]));
  const step = (W - left - 10) / Math.max(1, days.length);
  const bar = Math.max(2, Math.min(18, step / 2 - 2));
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const ticks = [0, Math.ceil(max / 2), max];
  const labelEvery = Math.ceil(days.length / 12);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="days-chart-title" data-chart="days">
      <title id="days-chart-title">Conversations opened and resolved per day, {days[0]?.day} to {days.at(-1)?.day}</title>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={left} x2={W - 5} y1={y(t)} y2={y(t)} class="grid" />
          <text x={left - 6} y={y(t) + 4} class="axis" text-anchor="end">{t}</text>
        </g>
      ))}
      {days.map((d, i) => {
        const x = left + i * step + step / 2;
        return (
          <g key={d.day} data-day={d.day}>
            <rect class="bar opened" x={x - bar - 1} y={y(d.opened)} width={bar} height={y(0) - y(d.opened)}><title>{d.day}: {d.opened} opened</title></rect>
            <rect class="bar resolved" x={x + 1} y={y(d.resolved)} width={bar} height={y(0) - y(d.resolved)}><title>{d.day}: {d.resolved} resolved</title></rect>
            {i % labelEvery === 0 && <text x={x} y={H - bottom + 16} class="axis" text-anchor="middle">{d.day.slice(5)}</text>}
          </g>
        );
      })}
      <g class="legend" transform={`translate(${left}, ${H - 12})`}>
        <rect class="bar opened" width="10" height="10" y="-9" /><text x="14" class="axis">opened</text>
        <rect class="bar resolved" x="80" width="10" height="10" y="-9" /><text x="94" class="axis">resolved</text>
      </g>
    </svg>
  );
}

/** Median and p90 of one time per group, as horizontal bars. */
function TimesChart({ groups, pick, title, id }: { groups: Group[]; pick: (g: Group) => TimeStats; title: string; id: string }) {
  const shown = groups.filter((g) => pick(g).count > 0).slice(0, 12);
  const W = 720, row = 26, left = 150, H = 24 + shown.length * row;
  const max = Math.max(1, ...shown.map((g) => pick(g).p90_s ?? 0));
  const x = (v: number) => left + (W - left - 190) * (v / max);
  if (shown.length === 0) return <p class="state">No {title.toLowerCase()} in this range.</p>;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title`} data-chart={id}>
      <title id={`${id}-title`}>{title}: median and p90</title>
      {shown.map((g, i) => {
        const t = pick(g);
        const cy = 12 + i * row;
        return (
          <g key={g.key}>
            <text x={left - 8} y={cy + 9} class="axis" text-anchor="end">{g.label.slice(0, 22)}</text>
            <rect class="bar p90" x={left} y={cy} width={x(t.p90_s ?? 0) - left} height={14}><title>{g.label} p90 {duration(t.p90_s)}</title></rect>
            <rect class="bar median" x={left} y={cy + 3} width={x(t.median_s ?? 0) - left} height={8}><title>{g.label} median {duration(t.median_s)}</title></rect>
            <text x={x(t.p90_s ?? 0) + 6} y={cy + 11} class="axis">{duration(t.median_s)} / {duration(t.p90_s)}</text>
          </g>
        );
      })}
    </svg>
  );
}

function GroupTable({ caption, groups, dim }: { caption: string; groups: Group[]; dim: string }) {
  return (
    <table class="report-table" data-table={dim}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{dim}</th><th scope="col">Opened</th><th scope="col">Resolved</th>
          <th scope="col">First response median</th><th scope="col">p90</th><th scope="col">Resolution median</th><th scope="col">p90</th>
          <th scope="col">CSAT score</th><th scope="col">Response rate</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.key} data-key={g.key}>
            <th scope="row">{g.label}</th><td data-col="opened">{g.opened}</td><td data-col="resolved">{g.resolved}</td>
            <td data-col="frt-median">{duration(g.first_response.median_s)}</td><td data-col="frt-p90">{duration(g.first_response.p90_s)}</td>
            <td data-col="res-median">{duration(g.resolution.median_s)}</td><td data-col="res-p90">{duration(g.resolution.p90_s)}</td>
            <td data-col="csat">{pct(g.csat.score)}</td><td data-col="rate">{pct(g.csat.response_rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ReportsPage() {
  const today = Date.now();
  const from = useSignal(utcDay(today - 6 * DAY_MS));
  const to = useSignal(utcDay(today));
  const report = useSignal<Report | null>(null);
  const state = useSignal('');

  const load = async () => {
    state.value = 'Loading…';
    try {
      const q = new URLSearchParams({ from: from.value, to: to.value });
      report.value = (await getJson<{ data: Report }>(`/api/reports/conversations?${q}`)).data;
      state.value = '';
    } catch (err) {
      state.value = `Could not load the report: ${(err as Error).message}`;
    }
  };
  useEffect(() => void load(), []);

  const download = async () => {
    try {
      const q = new URLSearchParams({ from: from.value, to: to.value });
      const blob = await (await authFetch(`/api/reports/conversations.csv?${q}`)).blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `conversations-${from.value}-${to.value}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      state.value = `Could not export: ${(err as Error).message}`;
    }
  };

  if (session.value?.agent.role !== 'admin') return <p>Only admins can see reports.</p>;
  const r = report.value;
  const t = r?.totals;
  return (
    <section class="reports" aria-labelledby="reports-title">
      <h1 id="reports-title">Reports</h1>
      <form class="range" onSubmit={(e) => { e.preventDefault(); void load(); }}>
        <label for="report-from">From (UTC day)</label>
        <input id="report-from" type="date" required value={from.value} onInput={(e) => (from.value = e.currentTarget.value)} />
        <label for="report-to">To</label>
        <input id="report-to" type="date" required value={to.value} onInput={(e) => (to.value = e.currentTarget.value)} />
        <button type="submit" class="primary">Show</button>
        <button type="button" onClick={() => void download()}>Download CSV</button>
      </form>
      <p role="status" class="state">{state.value}</p>
      {r && t && (
        <>
          <dl class="figures" aria-label="Totals">
            <div><dt>Opened</dt><dd data-figure="opened">{t.opened}</dd></div>
            <div><dt>Resolved</dt><dd data-figure="resolved">{t.resolved}</dd></div>
            <div><dt>First response (median / p90)</dt><dd data-figure="frt">{duration(t.first_response.median_s)} / {duration(t.first_response.p90_s)}</dd></div>
            <div><dt>Resolution (median / p90)</dt><dd data-figure="resolution">{duration(t.resolution.median_s)} / {duration(t.resolution.p90_s)}</dd></div>
            <div><dt>CSAT score (good)</dt><dd data-figure="csat">{pct(t.csat.score)}</dd></div>
            <div><dt>CSAT response rate</dt><dd data-figure="csat-rate">{pct(t.csat.response_rate)} <span class="state">({t.csat.rated} of {t.csat.asked})</span></dd></div>
          </dl>
          <h2>Opened and resolved per day</h2>
          <DaysChart days={r.days} />
          <h2>First response by agent</h2>
          <TimesChart groups={r.by_agent} pick={(g) => g.first_response} title="First response by agent" id="frt-agent" />
          <h2>Resolution time by agent</h2>
          <TimesChart groups={r.by_agent} pick={(g) => g.resolution} title="Resolution time by agent" id="res-agent" />
          <GroupTable caption="By agent" groups={r.by_agent} dim="Agent" />
          <GroupTable caption="By team" groups={r.by_team} dim="Team" />
          <GroupTable caption="By number" groups={r.by_number} dim="Number" />
        </>
      )}
    </section>
  );
}
