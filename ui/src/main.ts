// gantry's dashboard: one page, a view per hash route (#/, #/traces, #/traces/{id}, #/events,
// #/data), redrawn from the agent's API about once a second.
import "./style.css";
import { fill } from "./dom";
import { clock } from "./format";
import { State } from "./state";
import { data } from "./views/data";
import { events } from "./views/events";
import { overview } from "./views/overview";
import { traceDetail, traceList } from "./views/traces";

interface Route {
  view: "overview" | "traces" | "trace" | "events" | "data";
  id?: string;
  service?: string;
}

function route(): Route {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  const service = new URLSearchParams(query).get("service") ?? "";
  if (parts[0] === "traces" && parts[1]) return { view: "trace", id: parts[1] };
  if (parts[0] === "traces") return { view: "traces", service };
  if (parts[0] === "events") return { view: "events" };
  if (parts[0] === "data") return { view: "data" };
  return { view: "overview" };
}

const state = new State();
const view = document.getElementById("view")!;
const status = document.getElementById("status")!;
let drawn = ""; // the route last drawn, to draw a static view (one trace) only once
let generation = 0; // a newer draw wins over a slower older one

async function draw(force: boolean): Promise<void> {
  const current = route();
  const key = JSON.stringify(current);
  if (!force && current.view === "trace" && key === drawn) return;
  const mine = ++generation;
  let nodes: HTMLElement[];
  try {
    switch (current.view) {
      case "overview":
        nodes = overview(state);
        break;
      case "traces":
        nodes = await traceList(current.service ?? "", state.services.map((s) => s.name));
        break;
      case "trace":
        nodes = await traceDetail(current.id!);
        break;
      case "events":
        nodes = await events();
        break;
      case "data":
        nodes = await data();
        break;
    }
  } catch (e) {
    if (mine !== generation) return;
    status.textContent = `cannot draw: ${e instanceof Error ? e.message : String(e)}`;
    status.className = "status bad";
    return;
  }
  if (mine !== generation) return;
  fill(view, nodes);
  drawn = key;
  view.dataset.view = current.view;
  document.querySelectorAll<HTMLAnchorElement>("#nav a").forEach((a) => {
    const active = a.dataset.view === current.view || (a.dataset.view === "traces" && current.view === "trace");
    a.classList.toggle("active", active);
  });
}

function showStatus(): void {
  if (state.agent) {
    document.getElementById("app-name")!.textContent = `${state.agent.app} · ${state.agent.version}`;
    document.title = `${state.agent.app} · gantry`;
  }
  if (state.error) {
    status.textContent = `agent unreachable: ${state.error}`;
    status.className = "status bad";
  } else {
    status.textContent = `live · ${clock(state.updatedAt).slice(0, 8)}`;
    status.className = "status ok";
  }
}

async function tick(): Promise<void> {
  await state.refresh();
  showStatus();
  await draw(false);
}

window.addEventListener("hashchange", () => void draw(true));
void tick().finally(function again() {
  setTimeout(() => void tick().finally(again), 1000);
});
