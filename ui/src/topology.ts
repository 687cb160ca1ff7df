// Who calls whom, as an SVG graph: callers from outside (gateway, external) on the left,
// services in columns by their distance from them, an arrow per edge labelled with its calls
// per second (red when more than 1% failed in the last interval).
import { colorOf } from "./colors";
import { h, s } from "./dom";
import { rate, percent } from "./format";
import { layers, type EdgeRate } from "./model";

const NODE_W = 120;
const NODE_H = 34;
const COLUMN = 210;
const ROW = 64;

export function topologyGraph(services: string[], edges: EdgeRate[], unavailable?: string): HTMLElement {
  const card = h("section", { class: "card", id: "topology" }, h("h2", {}, "Topology"));
  if (unavailable) {
    card.append(h("p", { class: "muted" }, unavailable));
    return card;
  }
  const outside = ["gateway", "external"].filter((n) => edges.some((e) => e.from === n));
  const nodes = [...outside, ...services.filter((n) => !outside.includes(n))];
  for (const edge of edges) for (const n of [edge.from, edge.to]) if (!nodes.includes(n)) nodes.push(n);
  const depth = layers(nodes, edges, outside);
  const columns = new Map<number, string[]>();
  for (const node of nodes) columns.set(depth.get(node)!, [...(columns.get(depth.get(node)!) ?? []), node]);
  const tallest = Math.max(1, ...[...columns.values()].map((c) => c.length));
  const width = Math.max(...columns.keys()) * COLUMN + NODE_W + 20;
  const height = tallest * ROW + 10;
  const at = new Map<string, { x: number; y: number }>();
  for (const [column, members] of columns) {
    members.sort();
    members.forEach((node, i) => {
      const top = (height - members.length * ROW) / 2;
      at.set(node, { x: 10 + column * COLUMN, y: top + i * ROW + (ROW - NODE_H) / 2 });
    });
  }
  const arrows = edges.map((edge) => {
    const a = at.get(edge.from)!;
    const b = at.get(edge.to)!;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const back = x2 <= x1; // a call to the same or an earlier column
    const d = back
      ? `M${x1},${y1} C${x1 + 60},${y1 - 50} ${x2 - 60},${y2 - 50} ${x2},${y2}`
      : `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
    const failing = edge.errorRate > 0.01;
    return s(
      "g",
      { class: "edge" + (failing ? " failing" : ""), "data-from": edge.from, "data-to": edge.to, "data-rps": edge.rps },
      s("path", { d, "marker-end": "url(#arrow)" }),
      s(
        "text",
        { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - (back ? 40 : 6), "text-anchor": "middle" },
        `${rate(edge.rps)}/s` + (failing ? ` · ${percent(edge.errorRate)} err` : ""),
      ),
      s("title", {}, `${edge.from} → ${edge.to}: ${edge.calls} calls, ${edge.errors} failed`),
    );
  });
  const boxes = nodes.map((node) => {
    const p = at.get(node)!;
    const external = node === "gateway" || node === "external";
    return s(
      "g",
      { class: "node" + (external ? " outside" : ""), "data-node": node },
      s("rect", { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6, stroke: external ? "#888" : colorOf(node) }),
      s("text", { x: p.x + NODE_W / 2, y: p.y + NODE_H / 2 + 5, "text-anchor": "middle" }, node),
    );
  });
  card.append(
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, width, height, class: "topology", role: "img", "aria-label": "who calls whom" },
      s(
        "defs",
        {},
        s(
          "marker",
          { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
          s("path", { d: "M0,0 L10,5 L0,10 z" }),
        ),
      ),
      arrows,
      boxes,
    ),
  );
  return card;
}
