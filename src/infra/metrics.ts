import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per server instance (tests run several in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  private readonly httpSeries = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();

  constructor(pod: string) {
    this.registry.setDefaultLabels({ pod });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    // One labelled child per route, method and status, made once: prom-client hashes a labels object on every call.
    // Bounded: routes are the registered patterns, uWS refuses methods it does not know, statuses are ours.
    const key = `${route} ${method} ${status}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      const labels = { route, method, status: String(status) };
      series = { count: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.httpSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  /** A gauge read when Prometheus scrapes (sizes and totals owned by other modules). */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  /** A counter read when Prometheus scrapes, one series per value of `label` (totals owned by other modules). */
  counter(name: string, help: string, label: string, read: () => Record<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [value, total] of Object.entries(read())) this.inc({ [label]: value }, total);
      },
    });
  }

  /** A gauge read when Prometheus scrapes, one series per value of `label` (sizes owned by other modules). */
  gaugeByLabel(name: string, help: string, label: string, read: () => Record<string, number> | Promise<Record<string, number>>): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      async collect() {
        const values = await read();
        this.reset();
        for (const [value, v] of Object.entries(values)) this.set({ [label]: value }, v);
      },
    });
  }

  /** A histogram observed by its owner (one `observe` per event: no allocation beyond the labels object). */
  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram<L>({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
