/**
 * A state machine's definition (GET /api/machines/{name}, XState JSON) laid
 * out for an SVG, computed here (no layout library): sibling states in
 * columns by their distance from the initial state, each compound state a
 * box around its own children laid out the same way; every transition an
 * arrow between the boxes it joins.
 */
export interface Node { id: string; label: string; compound: boolean; x: number; y: number; w: number; h: number }
export interface Edge { from: string; to: string; label: string }
export interface Layout { nodes: Node[]; edges: Edge[]; width: number; height: number }

interface StateJson { initial?: string; states?: Record<string, StateJson>; on?: Record<string, unknown>; after?: Record<string, unknown>; onDone?: unknown; always?: unknown }

const W = 150;
const H = 40;
const GAP_X = 80;
const GAP_Y = 28;
const PAD = 16;
const HEADER = 26;

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

interface Box { id: string; label: string; state: StateJson; children: Box[]; w: number; h: number; x: number; y: number }

export function layoutMachine(machine: StateJson & { id?: string }): Layout {
  const id = machine.id ?? 'machine';
  const edges: Edge[] = [];
  const build = (name: string, path: string, s: StateJson): Box => {
    for (const [event, t] of Object.entries(s.on ?? {})) for (const to of targetsOf(t)) edges.push({ from: path, to: resolve(id, path, to), label: event });
    for (const [delay, t] of Object.entries(s.after ?? {})) for (const to of targetsOf(t)) edges.push({ from: path, to: resolve(id, path, to), label: `after ${delay}` });
    for (const to of targetsOf(s.onDone)) edges.push({ from: path, to: resolve(id, path, to), label: 'done' });
    for (const to of targetsOf(s.always)) edges.push({ from: path, to: resolve(id, path, to), label: 'always' });
    const children = Object.entries(s.states ?? {}).map(([n, c]) => build(n, `${path}.${n}`, c));
    return { id: path, label: name, state: s, children, w: W, h: H, x: 0, y: 0 };
  };
  const root: Box = { id: '', label: id, state: machine, children: Object.entries(machine.states ?? {}).map(([n, c]) => build(n, n, c)), w: 0, h: 0, x: 0, y: 0 };

  /** The child of `box` that `path` lies in. */
  const childHolding = (box: Box, path: string) => box.children.find((c) => path === c.id || path.startsWith(`${c.id}.`));

  // Sizes bottom-up: a compound box holds its children in columns.
  const columnsOf = new Map<Box, Box[][]>();
  const size = (box: Box): void => {
    if (box.children.length === 0) return;
    box.children.forEach(size);
    const depth = new Map<Box, number>();
    const start = box.children.find((c) => c.label === box.state.initial) ?? box.children[0]!;
    depth.set(start, 0);
    const queue = [start];
    while (queue.length) {
      const at = queue.shift()!;
      for (const e of edges) {
        if (!(e.from === at.id || e.from.startsWith(`${at.id}.`))) continue;
        const to = childHolding(box, e.to);
        if (to && !depth.has(to)) (depth.set(to, depth.get(at)! + 1), queue.push(to));
      }
    }
    const last = Math.max(0, ...depth.values()) + 1;
    const columns: Box[][] = [];
    for (const c of box.children) (columns[depth.get(c) ?? last] ??= []).push(c);
    const dense = columns.filter(Boolean);
    columnsOf.set(box, dense);
    const widths = dense.map((col) => Math.max(...col.map((c) => c.w)));
    const heights = dense.map((col) => col.reduce((n, c) => n + c.h, 0) + GAP_Y * (col.length - 1));
    box.w = widths.reduce((a, b) => a + b, 0) + GAP_X * (dense.length - 1) + 2 * PAD;
    box.h = Math.max(...heights) + 2 * PAD + HEADER;
  };
  size(root);

  const nodes: Node[] = [];
  const place = (box: Box, x: number, y: number): void => {
    box.x = x;
    box.y = y;
    if (box !== root) nodes.push({ id: box.id, label: box.label, compound: box.children.length > 0, x, y, w: box.w, h: box.h });
    let cx = x + PAD;
    for (const col of columnsOf.get(box) ?? []) {
      let cy = y + PAD + HEADER;
      for (const c of col) {
        place(c, cx, cy);
        cy += c.h + GAP_Y;
      }
      cx += Math.max(...col.map((c) => c.w)) + GAP_X;
    }
  };
  place(root, 0, -HEADER);
  const known = new Set(nodes.map((n) => n.id));
  return { nodes, edges: edges.filter((e) => known.has(e.from) && known.has(e.to)), width: root.w, height: root.h - HEADER };
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
