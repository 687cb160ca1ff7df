// A small SVG line chart: one line per series over the last minutes, a y axis with a rounded
// maximum, and the newest value in the legend.
import { colorOf } from "./colors";
import { h, s } from "./dom";

export interface Series {
  name: string;
  points: { at: number; value: number }[];
}

const W = 560;
const H = 180;
const PAD = { left: 48, right: 12, top: 10, bottom: 22 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

export function lineChart(
  id: string,
  title: string,
  series: Series[],
  format: (value: number) => string,
  windowMs = 120_000,
): HTMLElement {
  const now = Date.now();
  const from = now - windowMs;
  const max = niceMax(Math.max(0, ...series.flatMap((line) => line.points.map((p) => p.value))));
  const x = (at: number) => PAD.left + ((at - from) / windowMs) * (W - PAD.left - PAD.right);
  const y = (value: number) => PAD.top + (1 - value / max) * (H - PAD.top - PAD.bottom);
  const grid = [0, 0.5, 1].map((f) =>
    s(
      "g",
      {},
      s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(max * f), y2: y(max * f), class: "grid" }),
      s("text", { x: PAD.left - 6, y: y(max * f) + 4, class: "axis", "text-anchor": "end" }, format(max * f)),
    ),
  );
  const lines = series
    .filter((line) => line.points.length > 0)
    .map((line) => {
      const points = line.points.filter((p) => p.at >= from);
      const d = points.map((p, i) => `${i ? "L" : "M"}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join("");
      return s("path", { d, class: "line", stroke: colorOf(line.name), "data-series": line.name });
    });
  const legend = series.map((line) => {
    const last = line.points[line.points.length - 1];
    return h(
      "span",
      { class: "legend-item", "data-series": line.name, "data-value": last ? last.value : "" },
      h("i", { class: "swatch", "data-color": colorOf(line.name) }),
      `${line.name} ${last ? format(last.value) : "–"}`,
    );
  });
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title },
    grid,
    s("text", { x: PAD.left, y: H - 6, class: "axis" }, `${Math.round(windowMs / 60000)} min ago`),
    s("text", { x: W - PAD.right, y: H - 6, class: "axis", "text-anchor": "end" }, "now"),
    lines,
  );
  const figure = h("figure", { class: "card", id }, h("figcaption", {}, title), svg, h("div", { class: "legend" }, legend));
  // Swatch colours through the CSSOM (the policy forbids style attributes in markup).
  figure.querySelectorAll<HTMLElement>(".swatch").forEach((el) => (el.style.background = el.dataset.color ?? ""));
  return figure;
}
