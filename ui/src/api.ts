// The agent's API as the dashboard reads it (docs/api.md, docs/observability.md).

export interface Agent {
  app: string;
  pid: number;
  version: string;
  api: string;
  gateway: string;
  mesh: string;
}

export interface ServiceSummary {
  name: string;
  instances: number;
  healthy: number;
}

export interface Replica {
  id: string;
  service: string;
  pid: number;
  address: string;
  state: string;
  health: string;
  restarts: number;
  uptime_seconds: number;
  last_exit: string;
  check: string;
  cpu_seconds?: number;
  memory_bytes?: number;
  cpu_limit?: number;
  memory_limit_bytes?: number;
}

export interface ServiceStats {
  endpoints: number;
  requests: number;
  responses: Record<"1xx" | "2xx" | "3xx" | "4xx" | "5xx" | "none", number>;
  retries: number;
  latency_buckets: number[];
}

export interface ProxyStats {
  latency_bounds_us: number[];
  services: Record<string, ServiceStats>;
}

export interface Edge {
  from: string;
  to: string;
  calls: number;
  errors: number;
}

export interface TraceSummary {
  trace_id: string;
  root_service: string;
  root_target: string;
  start_unix_us: number;
  duration_us: number;
  spans: number;
  error: boolean;
  services: string[];
}

export interface Span {
  span_id: string;
  parent_id: string;
  kind: "gateway" | "mesh";
  service: string;
  instance: string;
  method: string;
  target: string;
  status: number;
  start_unix_us: number;
  duration_us: number;
  attempts: number;
}

export interface GantryEvent {
  index: number;
  time_ms: number;
  kind: string;
  service: string;
  instance: string;
  message: string;
}

export interface Topic {
  topic: string;
  first_offset: number;
  next_offset: number;
  messages: number;
  bytes: number;
  subscriptions: {
    service: string;
    committed: number;
    lag: number;
    in_flight: number;
    delivered: number;
    redelivered: number;
    dead_lettered: number;
  }[];
}

export interface Lock {
  name: string;
  holder: { token: number; lease: string; value: string } | null;
  waiters: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let code = "http_" + response.status;
    let message = response.statusText;
    try {
      const body = (await response.json()) as { code?: string; error?: string };
      code = body.code ?? code;
      message = body.error ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  return (await response.json()) as T;
}
