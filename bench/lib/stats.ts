/** Latency samples and their percentiles. Samples are kept (bounded), not bucketed: runs are short. */
export class Samples {
  private values: Float64Array;
  private n = 0;
  private dropped = 0;

  constructor(private readonly capacity = 2_000_000) {
    this.values = new Float64Array(Math.min(capacity, 65_536));
  }

  add(v: number): void {
    if (this.n === this.values.length) {
      if (this.n >= this.capacity) {
        this.dropped++;
        return;
      }
      const grown = new Float64Array(Math.min(this.capacity, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = v;
  }

  get count(): number {
    return this.n;
  }

  /** Samples past the capacity (counted, not kept). */
  get overflow(): number {
    return this.dropped;
  }

  summary(): Summary {
    return summarize(this.values.subarray(0, this.n));
  }
}

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { count: n, mean: sum / n, p50: pct(sorted, 0.5), p90: pct(sorted, 0.9), p99: pct(sorted, 0.99), p999: pct(sorted, 0.999), max: sorted[n - 1]! };
}

/** Nearest-rank percentile of sorted values. */
function pct(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (v: number, digits = 3): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);
