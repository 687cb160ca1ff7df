// The agent's events (starts, exits, restarts, OOM kills, scaling, rollouts, ejections),
// newest first.
import { get, type GantryEvent } from "../api";
import { h } from "../dom";
import { clock } from "../format";
import { card, table } from "../table";

const serious = new Set(["exited", "failed", "oom", "ejected"]);

export async function events(): Promise<HTMLElement[]> {
  const list = (await get<GantryEvent[]>("/api/v1/events")).slice(-500).reverse();
  const rows = list.map((e) =>
    h(
      "tr",
      { "data-event": e.index },
      h("td", {}, clock(e.time_ms)),
      h("td", {}, h("span", { class: serious.has(e.kind) ? "pill bad" : "pill idle" }, e.kind)),
      h("td", {}, e.service),
      h("td", {}, e.instance),
      h("td", {}, e.message),
    ),
  );
  return [
    card("events", "Events", table(["time", "kind", "service", "instance", "message"], rows, "no events")),
  ];
}
