// What the dashboard computes from the API's counters: rates and latency over each poll
// interval (from counter and histogram-bucket deltas, as `gantry top` does), the topology's
// layers, and a trace's waterfall rows. Pure functions and plain classes: no DOM.

import type { Edge, ProxyStats, ServiceStats, Span } from "./api";

// The upper bound of the bucket holding quantile q (src/telemetry/counters.cc's rule).
export function bucketQuantile(buckets: number[], bounds: number[], q: number): number {
  const count = buckets.reduce((sum, n) => sum + n, 0);
  if (count === 0 || bounds.length === 0) return 0;
  const rank = Math.floor(q * count);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen > rank || seen === count) return bounds[Math.min(i, bounds.length - 1)];
  }
  return bounds[bounds.length - 1];
}

export interface Point {
  at: number; // ms since the epoch
  rps: number;
  errorRate: number; // 0..1 of the responses in the interval
  p50us: number;
  p99us: number;
}

const errorsOf = (s: ServiceStats) => s.responses["5xx"] + s.responses.none;
const answeredOf = (s: ServiceStats) =>
  s.responses["1xx"] + s.responses["2xx"] + s.responses["3xx"] + s.responses["4xx"] + errorsOf(s);

// Per-service points, one per poll after the first, the newest `keep` of them.
export class History {
  private last?: { at: number; stats: ProxyStats };
  readonly series = new Map<string, Point[]>();
  constructor(private readonly keep = 120) {}

  add(at: number, stats: ProxyStats): void {
    const last = this.last;
    this.last = { at, stats };
    if (!last || at <= last.at) return;
    const seconds = (at - last.at) / 1000;
    for (const [name, now] of Object.entries(stats.services)) {
      const before = last.stats.services[name];
      if (!before || now.requests < before.requests) continue; // new, or the agent restarted
      const buckets = now.latency_buckets.map((n, i) => n - (before.latency_buckets[i] ?? 0));
      const answered = answeredOf(now) - answeredOf(before);
      const point: Point = {
        at,
        rps: (now.requests - before.requests) / seconds,
        errorRate: answered > 0 ? (errorsOf(now) - errorsOf(before)) / answered : 0,
        p50us: bucketQuantile(buckets, stats.latency_bounds_us, 0.5),
        p99us: bucketQuantile(buckets, stats.latency_bounds_us, 0.99),
      };
      const points = this.series.get(name) ?? [];
      points.push(point);
      if (points.length > this.keep) points.splice(0, points.length - this.keep);
      this.series.set(name, points);
    }
  }

  latest(service: string): Point | undefined {
    const points = this.series.get(service);
    return points?.[points.length - 1];
  }
}

export interface EdgeRate extends Edge {
  rps: number;
  errorRate: number;
}

// Calls per second on each edge over the last poll interval.
export class EdgeRates {
  private last?: { at: number; edges: Map<string, Edge> };

  add(at: number, edges: Edge[]): EdgeRate[] {
    const now = new Map(edges.map((e) => [e.from + ">" + e.to, e]));
    const last = this.last;
    this.last = { at, edges: now };
    const seconds = last && at > last.at ? (at - last.at) / 1000 : 0;
    return edges.map((edge) => {
      const before = last?.edges.get(edge.from + ">" + edge.to);
      const calls = seconds ? edge.calls - (before?.calls ?? 0) : 0;
      const errors = seconds ? edge.errors - (before?.errors ?? 0) : 0;
      return {
        ...edge,
        rps: seconds ? calls / seconds : 0,
        errorRate: calls > 0 ? errors / calls : 0,
      };
    });
  }
}

// Each node's column: callers from outside (gateway, external) first, then each service one
// column right of its furthest caller (calls back, in a cycle, are not followed); services
// nobody calls go in the first service column.
export function layers(nodes: string[], edges: Edge[], roots: string[]): Map<string, number> {
  const depth = new Map<string, number>();
  const onPath = new Set<string>();
  const visit = (node: string, at: number) => {
    if (onPath.has(node) || (depth.get(node) ?? -1) >= at) return;
    depth.set(node, at);
    onPath.add(node);
    for (const edge of edges) if (edge.from === node && !roots.includes(edge.to)) visit(edge.to, at + 1);
    onPath.delete(node);
  };
  for (const root of roots) if (nodes.includes(root)) visit(root, 0);
  for (const node of nodes) if (!depth.has(node)) visit(node, 1);
  return depth;
}

export interface WaterfallRow {
  span: Span;
  depth: number;
  offset: number; // 0..1 of the trace's time
  width: number; // 0..1
}

// A trace's spans as rows: each span under its parent, children by start time.
export function waterfall(spans: Span[]): WaterfallRow[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((s) => s.start_unix_us));
  const end = Math.max(...spans.map((s) => s.start_unix_us + s.duration_us));
  const total = Math.max(1, end - start);
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string, Span[]>();
  for (const span of spans) {
    const parent = ids.has(span.parent_id) ? span.parent_id : ""; // a missing parent: a root
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: WaterfallRow[] = [];
  const visit = (parent: string, depth: number) => {
    const list = (children.get(parent) ?? []).sort((a, b) => a.start_unix_us - b.start_unix_us);
    for (const span of list) {
      rows.push({
        span,
        depth,
        offset: (span.start_unix_us - start) / total,
        width: Math.max(span.duration_us / total, 0.002),
      });
      visit(span.span_id, depth + 1);
    }
  };
  visit("", 0);
  return rows;
}
