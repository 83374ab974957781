import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, getJson } from '../lib/api.ts';
import { timeOf } from '../lib/format.ts';
import { activePaths, layoutMachine, type Layout, type Node } from '../lib/machine-layout.ts';

interface ActorRecord {
  state: unknown;
  context: Record<string, unknown>;
  transitions: { at: string; event: string; from: unknown; to: unknown }[];
}

const label = (v: unknown) => activePaths(v).at(-1) ?? JSON.stringify(v);

function edgePath(a: Node, b: Node): string {
  if (a === b) return `M${a.x + a.w - 30},${a.y} c 10,-28 40,-28 30,0`;
  const ay = a.y + a.h / 2, by = b.y + b.h / 2;
  if (b.x >= a.x + a.w) {
    const mx = (a.x + a.w + b.x) / 2;
    return `M${a.x + a.w},${ay} C${mx},${ay} ${mx},${by} ${b.x},${by}`;
  }
  if (b.x + b.w <= a.x) {
    const low = Math.max(a.y + a.h, b.y + b.h) + 36;
    return `M${a.x + a.w / 2},${a.y + a.h} C${a.x + a.w / 2},${low} ${b.x + b.w / 2},${low} ${b.x + b.w / 2},${b.y + b.h}`;
  }
  // Same column: an arc on the right side.
  const side = Math.max(a.x + a.w, b.x + b.w) + 30;
  return `M${a.x + a.w},${ay} C${side},${ay} ${side},${by} ${b.x + b.w},${by}`;
}

function Diagram({ layout, active }: { layout: Layout; active: Set<string> }) {
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const width = layout.width + 40;
  const height = layout.height + 60;
  const box = (n: Node) => (
    <g key={n.id} class={`node${n.compound ? ' compound' : ''}${active.has(n.id) ? ' active' : ''}`} data-state={n.id} data-active={active.has(n.id) ? 'true' : undefined}>
      <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={8} />
      {n.compound
        ? <text x={n.x + 10} y={n.y + 18}>{n.label}</text>
        : <text x={n.x + n.w / 2} y={n.y + n.h / 2 + 4} text-anchor="middle">{n.label}</text>}
    </g>
  );
  return (
    <svg class="machine" viewBox={`-10 -30 ${width} ${height}`} width={width} height={height} role="img" aria-labelledby="machine-title machine-desc">
      <title id="machine-title">Discount conversation state machine</title>
      <desc id="machine-desc">{`${layout.nodes.length} states and ${layout.edges.length} transitions.${active.size ? ` Current state: ${[...active].at(-1)}.` : ''}`}</desc>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead" /></marker>
      </defs>
      {layout.nodes.filter((n) => n.compound).map(box)}
      {layout.edges.map((e, i) => (
        <path key={i} d={edgePath(byId.get(e.from)!, byId.get(e.to)!)} class="edge" marker-end="url(#arrow)"><title>{`${e.from} → ${e.to} on ${e.label}`}</title></path>
      ))}
      {layout.nodes.filter((n) => !n.compound).map(box)}
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
