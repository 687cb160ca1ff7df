// What the dashboard knows of the agent, refreshed once a second whatever the view, so that
// the charts have their history when the overview is opened.
import { get, ApiError, type Agent, type Edge, type ProxyStats, type Replica, type ServiceSummary } from "./api";
import { EdgeRates, History, type EdgeRate } from "./model";

export class State {
  agent?: Agent;
  services: ServiceSummary[] = [];
  replicas: Replica[] = [];
  stats?: ProxyStats;
  readonly history = new History();
  edges: EdgeRate[] = [];
  topologyOff?: string; // why there is no topology (tracing off)
  cpu = new Map<string, number>(); // replica id -> share of one core over the last interval
  error?: string;
  updatedAt = 0;
  private edgeRates = new EdgeRates();
  private lastCpu = new Map<string, { at: number; seconds: number }>();

  async refresh(): Promise<void> {
    try {
      const [agent, services, replicas, stats, topology] = await Promise.all([
        this.agent ? Promise.resolve(this.agent) : get<Agent>("/api/v1/agent"),
        get<ServiceSummary[]>("/api/v1/services"),
        get<Replica[]>("/api/v1/replicas"),
        get<ProxyStats>("/api/v1/proxy/stats"),
        get<{ edges: Edge[] }>("/api/v1/topology").catch((e: unknown) => {
          if (e instanceof ApiError && e.code === "tracing_off") return undefined;
          throw e;
        }),
      ]);
      const at = Date.now();
      this.agent = agent;
      this.services = services.sort((a, b) => a.name.localeCompare(b.name));
      this.replicas = replicas;
      this.stats = stats;
      this.history.add(at, stats);
      if (topology) {
        this.edges = this.edgeRates.add(at, topology.edges);
        this.topologyOff = undefined;
      } else {
        this.edges = [];
        this.topologyOff = "Tracing is off (gantry up --no-tracing): calls between services are not recorded.";
      }
      this.measureCpu(at);
      this.error = undefined;
      this.updatedAt = at;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  private measureCpu(at: number): void {
    for (const replica of this.replicas) {
      if (replica.cpu_seconds === undefined) continue;
      const last = this.lastCpu.get(replica.id);
      if (last && at > last.at && replica.cpu_seconds >= last.seconds) {
        this.cpu.set(replica.id, (replica.cpu_seconds - last.seconds) / ((at - last.at) / 1000));
      }
      this.lastCpu.set(replica.id, { at, seconds: replica.cpu_seconds });
    }
  }
}
