/**
 * A state machine's definition (GET /api/machines/{name}, XState JSON) laid
 * out for an SVG: every state a box (compound states too, named by their
 * dotted path), every transition an arrow, placed in columns by distance from
 * the initial state. Computed here; no layout library.
 */
export interface Node { id: string; label: string; compound: boolean; x: number; y: number; w: number; h: number }
export interface Edge { from: string; to: string; label: string }
export interface Layout { nodes: Node[]; edges: Edge[]; width: number; height: number }

interface StateJson { initial?: string; states?: Record<string, StateJson>; on?: Record<string, unknown>; after?: Record<string, unknown>; onDone?: unknown; always?: unknown }

const W = 150;
const H = 40;
const GAP_X = 70;
const GAP_Y = 24;

function targetsOf(t: unknown): string[] {
  if (t === undefined || t === null) return [];
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.flatMap(targetsOf);
  const target = (t as { target?: unknown }).target;
  return target === undefined ? [] : Array.isArray(target) ? target.map(String) : [String(target)];
}

/** An XState target from the state at `source` (`#machine.a.b`, or a sibling path). */
function resolve(machineId: string, source: string, target: string): string {
  if (target.startsWith('#')) {
    const path = target.slice(1);
    return path.startsWith(`${machineId}.`) ? path.slice(machineId.length + 1) : path;
  }
  const parent = source.includes('.') ? source.slice(0, source.lastIndexOf('.')) : '';
  return parent ? `${parent}.${target}` : target;
}

export function layoutMachine(machine: StateJson & { id?: string }): Layout {
  const id = machine.id ?? 'machine';
  const nodes = new Map<string, Node>();
  const edges: Edge[] = [];
  const walk = (states: Record<string, StateJson>, prefix: string) => {
    for (const [name, s] of Object.entries(states)) {
      const path = prefix ? `${prefix}.${name}` : name;
      const compound = !!s.states && Object.keys(s.states).length > 0;
      nodes.set(path, { id: path, label: path, compound, x: 0, y: 0, w: W, h: H });
      for (const [event, t] of Object.entries(s.on ?? {})) for (const to of targetsOf(t)) edges.push({ from: path, to: resolve(id, path, to), label: event });
      for (const [delay, t] of Object.entries(s.after ?? {})) for (const to of targetsOf(t)) edges.push({ from: path, to: resolve(id, path, to), label: `after ${delay}` });
      for (const to of targetsOf(s.onDone)) edges.push({ from: path, to: resolve(id, path, to), label: 'done' });
      for (const to of targetsOf(s.always)) edges.push({ from: path, to: resolve(id, path, to), label: 'always' });
      if (compound) {
        if (s.initial) edges.push({ from: path, to: `${path}.${s.initial}`, label: 'start' });
        walk(s.states!, path);
      }
    }
  };
  walk(machine.states ?? {}, '');
  const known = edges.filter((e) => nodes.has(e.to) && nodes.has(e.from));
  // Columns: breadth-first distance from the initial state; unreachable states go last.
  const depth = new Map<string, number>();
  const start = machine.initial && nodes.has(machine.initial) ? machine.initial : nodes.keys().next().value;
  if (start) {
    depth.set(start, 0);
    const queue = [start];
    while (queue.length) {
      const at = queue.shift()!;
      for (const e of known) if (e.from === at && !depth.has(e.to)) (depth.set(e.to, depth.get(at)! + 1), queue.push(e.to));
    }
  }
  const maxDepth = Math.max(0, ...depth.values());
  const columns = new Map<number, Node[]>();
  for (const n of nodes.values()) {
    const d = depth.get(n.id) ?? maxDepth + 1;
    columns.set(d, [...(columns.get(d) ?? []), n]);
  }
  let height = 0;
  for (const [d, col] of columns) {
    col.forEach((n, i) => {
      n.x = 20 + d * (W + GAP_X);
      n.y = 20 + i * (H + GAP_Y);
    });
    height = Math.max(height, 20 + col.length * (H + GAP_Y));
  }
  const width = 20 + (Math.max(...columns.keys()) + 1) * (W + GAP_X);
  return { nodes: [...nodes.values()], edges: known, width, height: height + 20 };
}

/** `{conversation: "offered"}` → `["conversation", "conversation.offered"]`: the active state and its ancestors. */
export function activePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      return [path, ...activePaths(v, path)];
    });
  }
  return [];
}
