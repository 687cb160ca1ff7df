// The first view: every service with its replicas' health and its traffic, who calls whom,
// live charts of requests/s and p99 latency, and every replica.
import { h } from "../dom";
import { lineChart } from "../chart";
import { bytes, duration, micros, percent, rate } from "../format";
import type { State } from "../state";
import { card, table } from "../table";
import { topologyGraph } from "../topology";

function healthClass(healthy: number, total: number): string {
  if (total === 0) return "pill idle";
  return healthy === total ? "pill ok" : healthy === 0 ? "pill bad" : "pill warn";
}

function servicesTable(state: State): HTMLElement {
  const rows = state.services.map((service) => {
    const point = state.history.latest(service.name);
    const replicas = state.replicas.filter((r) => r.service === service.name);
    const restarts = replicas.reduce((n, r) => n + r.restarts, 0);
    const cpu = replicas.reduce((n, r) => n + (state.cpu.get(r.id) ?? 0), 0);
    const memory = replicas.reduce((n, r) => n + (r.memory_bytes ?? 0), 0);
    const measured = replicas.some((r) => r.memory_bytes !== undefined);
    return h(
      "tr",
      { "data-service": service.name, "data-healthy": service.healthy, "data-instances": service.instances },
      h("td", {}, h("a", { href: `#/traces?service=${encodeURIComponent(service.name)}` }, service.name)),
      h("td", {}, h("span", { class: healthClass(service.healthy, service.instances), "data-field": "replicas" },
        `${service.healthy}/${service.instances} healthy`)),
      h("td", { class: "num" }, restarts),
      h("td", { class: "num", "data-field": "rps" }, point ? rate(point.rps) : "–"),
      h("td", { class: "num" + (point && point.errorRate > 0.01 ? " bad-text" : "") }, point ? percent(point.errorRate) : "–"),
      h("td", { class: "num" }, point && point.rps > 0 ? micros(point.p50us) : "–"),
      h("td", { class: "num" }, point && point.rps > 0 ? micros(point.p99us) : "–"),
      h("td", { class: "num" }, replicas.some((r) => state.cpu.has(r.id)) ? percent(cpu) : "–"),
      h("td", { class: "num" }, measured ? bytes(memory) : "–"),
    );
  });
  return card(
    "services",
    "Services",
    table(
      ["service", "replicas", "restarts", "req/s", "errors", "p50", "p99", "CPU", "memory"],
      rows,
      "no services yet",
      (i) => i >= 2,
    ),
  );
}

function replicasTable(state: State): HTMLElement {
  const rows = [...state.replicas]
    .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }))
    .map((r) =>
      h(
        "tr",
        { "data-replica": r.id },
        h("td", {}, r.id),
        h("td", {}, r.state),
        h("td", {}, h("span", { class: r.health === "healthy" ? "pill ok" : r.health === "unknown" ? "pill idle" : "pill bad", title: r.check }, r.health)),
        h("td", { class: "num" }, r.restarts),
        h("td", { class: "num" }, r.pid || "–"),
        h("td", {}, r.address || "–"),
        h("td", { class: "num" }, state.cpu.has(r.id) ? percent(state.cpu.get(r.id)!) : "–"),
        h("td", { class: "num" }, bytes(r.memory_bytes)),
        h("td", { class: "num" }, r.pid ? duration(r.uptime_seconds) : "–"),
        h("td", { class: "muted" }, r.last_exit),
      ),
    );
  return card(
    "replicas",
    "Replicas",
    table(
      ["replica", "state", "health", "restarts", "pid", "address", "CPU", "memory", "uptime", "last exit"],
      rows,
      "no replicas",
      (i) => [3, 4, 6, 7, 8].includes(i),
    ),
  );
}

export function overview(state: State): HTMLElement[] {
  const names = state.services.map((s) => s.name);
  const series = (value: (p: { rps: number; p99us: number }) => number) =>
    names.map((name) => ({
      name,
      points: (state.history.series.get(name) ?? []).map((p) => ({ at: p.at, value: value(p) })),
    }));
  return [
    servicesTable(state),
    h(
      "div",
      { class: "grid2" },
      lineChart("chart-rps", "Requests per second", series((p) => p.rps), rate),
      lineChart("chart-p99", "p99 latency", series((p) => p.p99us), micros),
    ),
    topologyGraph(names, state.edges, state.topologyOff),
    replicasTable(state),
  ];
}
