// Recent traces (tail-sampled by the agent: errors and slow ones always, the rest sampled),
// and one trace as a waterfall: a row per proxied hop under its parent, a bar for its time.
import { ApiError, get, type Span, type TraceSummary } from "../api";
import { colorOf } from "../colors";
import { h } from "../dom";
import { clock, micros } from "../format";
import { waterfall } from "../model";
import { table } from "../table";

function unavailable(e: unknown): HTMLElement {
  const text =
    e instanceof ApiError && e.code === "tracing_off"
      ? "Tracing is off (gantry up --no-tracing)."
      : `Cannot read traces: ${e instanceof Error ? e.message : String(e)}`;
  return h("section", { class: "card" }, h("p", { class: "muted" }, text));
}

export async function traceList(service: string, services: string[]): Promise<HTMLElement[]> {
  let traces: TraceSummary[];
  try {
    const query = service ? `?limit=100&service=${encodeURIComponent(service)}` : "?limit=100";
    traces = await get<TraceSummary[]>("/api/v1/traces" + query);
  } catch (e) {
    return [unavailable(e)];
  }
  const filter = h(
    "select",
    {
      id: "trace-service",
      onchange: (event: Event) => {
        const value = (event.target as HTMLSelectElement).value;
        location.hash = value ? `#/traces?service=${encodeURIComponent(value)}` : "#/traces";
      },
    },
    h("option", { value: "" }, "all services"),
    services.map((name) => h("option", { value: name, selected: name === service }, name)),
  );
  const rows = traces.map((t) =>
    h(
      "tr",
      { class: "clickable" + (t.error ? " error-row" : ""), "data-trace": t.trace_id, onclick: () => (location.hash = `#/traces/${t.trace_id}`) },
      h("td", {}, clock(t.start_unix_us / 1000)),
      h("td", {}, h("a", { href: `#/traces/${t.trace_id}` }, t.root_service)),
      h("td", { class: "mono" }, t.root_target),
      h("td", { class: "num" }, micros(t.duration_us)),
      h("td", { class: "num" }, t.spans),
      h("td", {}, t.services.join(", ")),
      h("td", {}, t.error ? h("span", { class: "pill bad" }, "error") : ""),
    ),
  );
  return [
    h(
      "section",
      { class: "card", id: "traces" },
      h("div", { class: "card-head" }, h("h2", {}, "Recent traces"), filter),
      h(
        "p",
        { class: "muted" },
        "Kept by tail sampling: every trace with an error or a slow hop, and a share of the rest.",
      ),
      table(["time", "root", "target", "duration", "spans", "services", ""], rows, "no traces kept yet"),
    ),
  ];
}

function spanDetail(span: Span): HTMLElement {
  return h(
    "dl",
    { class: "span-detail" },
    [
      ["hop", span.kind === "gateway" ? "gateway → " + span.service : "mesh → " + span.service],
      ["instance", span.instance || "–"],
      ["request", `${span.method} ${span.target}`],
      ["status", span.status ? String(span.status) : "no response"],
      ["attempts", String(span.attempts)],
      ["start", clock(span.start_unix_us / 1000)],
      ["duration", micros(span.duration_us)],
      ["span id", span.span_id],
      ["parent", span.parent_id || "(root)"],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

export async function traceDetail(id: string): Promise<HTMLElement[]> {
  let trace: { trace_id: string; spans: Span[] };
  try {
    trace = await get<{ trace_id: string; spans: Span[] }>(`/api/v1/traces/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code !== "tracing_off") {
      return [h("section", { class: "card" }, h("p", {}, "This trace is not kept (any more)."), h("a", { href: "#/traces" }, "← traces"))];
    }
    return [unavailable(e)];
  }
  const rows = waterfall(trace.spans);
  const total = rows.length ? Math.max(...rows.map((r) => r.span.start_unix_us + r.span.duration_us)) - Math.min(...rows.map((r) => r.span.start_unix_us)) : 0;
  const detail = h("div", { id: "span-detail" }, rows.length ? spanDetail(rows[0].span) : "");
  const lines = rows.map((row) => {
    const bar = h("div", { class: "bar" + (row.span.status === 0 || row.span.status >= 500 ? " failed" : "") });
    bar.style.left = (row.offset * 100).toFixed(3) + "%";
    bar.style.width = (row.width * 100).toFixed(3) + "%";
    bar.style.background = colorOf(row.span.service);
    const label = h(
      "div",
      { class: "label" },
      h("b", {}, row.span.service),
      " ",
      h("span", { class: "mono" }, `${row.span.method} ${row.span.target}`),
    );
    label.style.paddingLeft = 8 + row.depth * 16 + "px";
    return h(
      "div",
      {
        class: "waterfall-row clickable",
        "data-span": row.span.span_id,
        onclick: () => detail.replaceChildren(spanDetail(row.span)),
      },
      label,
      h("div", { class: "track" }, bar),
      h("span", { class: "bar-text" }, `${micros(row.span.duration_us)} · ${row.span.status || "no response"}`),
    );
  });
  return [
    h(
      "section",
      { class: "card", id: "trace" },
      h("div", { class: "card-head" }, h("h2", {}, "Trace ", h("span", { class: "mono" }, trace.trace_id)), h("a", { href: "#/traces" }, "← traces")),
      h("p", { class: "muted" }, `${rows.length} hops, ${micros(total)}`),
      h("div", { class: "waterfall" }, lines),
      detail,
    ),
  ];
}
