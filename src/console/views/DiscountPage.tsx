import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, getJson } from '../lib/api.ts';
import { timeOf } from '../lib/format.ts';
import { activePaths, layoutMachine, type Layout } from '../lib/machine-layout.ts';

interface ActorRecord {
  state: unknown;
  context: Record<string, unknown>;
  transitions: { at: string; event: string; from: unknown; to: unknown }[];
}

const label = (v: unknown) => activePaths(v).at(-1) ?? JSON.stringify(v);

function Diagram({ layout, active }: { layout: Layout; active: Set<string> }) {
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  return (
    <svg class="machine" viewBox={`0 0 ${layout.width} ${layout.height}`} width={layout.width} height={layout.height} role="img" aria-labelledby="machine-title machine-desc">
      <title id="machine-title">Discount conversation state machine</title>
      <desc id="machine-desc">{`${layout.nodes.length} states and ${layout.edges.length} transitions.${active.size ? ` Current state: ${[...active].at(-1)}.` : ''}`}</desc>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead" /></marker>
      </defs>
      {layout.edges.map((e, i) => {
        const a = byId.get(e.from)!;
        const b = byId.get(e.to)!;
        const self = a === b;
        const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
        const d = self ? `M${a.x + a.w - 20},${a.y} c 20,-30 40,-10 20,0` : x2 > x1 ? `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}` : `M${a.x + a.w / 2},${a.y + a.h} C${a.x + a.w / 2},${a.y + a.h + 40} ${b.x + b.w / 2},${b.y + b.h + 40} ${b.x + b.w / 2},${b.y + b.h}`;
        return <path key={i} d={d} class="edge" marker-end="url(#arrow)"><title>{`${e.from} → ${e.to} on ${e.label}`}</title></path>;
      })}
      {layout.nodes.map((n) => (
        <g key={n.id} class={`node${n.compound ? ' compound' : ''}${active.has(n.id) ? ' active' : ''}`} data-state={n.id} data-active={active.has(n.id) ? 'true' : undefined}>
          <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={8} />
          <text x={n.x + n.w / 2} y={n.y + n.h / 2 + 4} text-anchor="middle">{n.label.length > 22 ? '…' + n.label.slice(-21) : n.label}</text>
        </g>
      ))}
    </svg>
  );
}

export function DiscountPage() {
  const layout = useSignal<Layout | null>(null);
  const error = useSignal('');
  const number = useSignal('');
  const record = useSignal<ActorRecord | null>(null);
  const lookupState = useSignal('');

  useEffect(() => {
    getJson<{ machine: Record<string, unknown> }>('/api/machines/discount')
      .then((r) => (layout.value = layoutMachine(r.machine)))
      .catch((e: Error) => (error.value = e.message));
  }, []);

  const lookup = async (e: Event) => {
    e.preventDefault();
    record.value = null;
    lookupState.value = 'Looking up…';
    try {
      const r = await getJson<{ data: ActorRecord }>(`/api/actors/discount/${encodeURIComponent(number.value.trim())}`);
      record.value = r.data;
      lookupState.value = '';
    } catch (err) {
      lookupState.value = err instanceof ApiError && err.code === 'NOT_FOUND' ? 'No discount conversation with that number.' : `Lookup failed: ${(err as Error).message}`;
    }
  };

  const active = new Set(record.value ? activePaths(record.value.state) : []);
  return (
    <section class="discount" aria-labelledby="discount-title">
      <h1 id="discount-title">Discount flows</h1>
      <p>The discount channel's state machine, drawn from <code>/api/machines/discount</code>. Look up a customer to see where their conversation is.</p>
      <form class="lookup" onSubmit={lookup}>
        <label for="discount-number">Customer number</label>
        <input id="discount-number" inputMode="tel" required placeholder="10 digits" value={number.value} onInput={(e) => (number.value = e.currentTarget.value)} />
        <button type="submit" class="primary">Show state</button>
        <span role="status">{lookupState.value}</span>
      </form>
      {record.value && (
        <div class="actor">
          <p>Current state: <strong data-current-state={label(record.value.state)}>{label(record.value.state)}</strong></p>
          <table>
            <caption>Last transitions, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">From</th><th scope="col">To</th></tr></thead>
            <tbody>
              {[...record.value.transitions].reverse().map((t, i) => (
                <tr key={i}><td>{timeOf(t.at)}</td><td>{t.event}</td><td>{label(t.from)}</td><td>{label(t.to)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error.value && <p class="error" role="alert">{error.value}</p>}
      <div class="diagram" tabIndex={0} role="region" aria-label="State diagram (scrolls)">{layout.value ? <Diagram layout={layout.value} active={active} /> : <p>Loading the machine…</p>}</div>
    </section>
  );
}
