// Why requests failed, counted where each one ends: at the client's proxy (or kube-proxy, for an
// unmeshed client), per client, service and route, by the final status, the cause of the final
// answer and why the request was not retried (further). Rows are bounded by the configuration
// (routes × statuses × causes), not by the run's length. Only requests that end inside the
// measurement window count, as in every other table of the summary.

import type { HttpResponse } from "./http.js";
import type { SeriesLabels } from "./metrics.js";

/** What the final answer was. */
export type FailureCause =
  | "app-error" // the application answered a failure status (or gRPC status)
  | "no-endpoints" // kube-proxy: nothing behind the Service
  | "fail-fast" // the backend had no ready endpoint for the fail-fast timeout: 504
  | "load-shed" // every backend's gate shut (or queue full): 503
  | "request-timeout" // timeout.linkerd.io/request or HTTPRoute timeouts.request: 504
  | "per-try-timeout" // retry.linkerd.io/timeout on the last attempt: 504
  | "response-timeout"
  | "idle-timeout"
  | "route-timeout" // ServiceProfile route timeout: 504
  | "connect-error" // refused, timed out or TLS handshake failed: 502
  | "connection-reset" // the connection or stream broke mid-request: 502
  | "refused-stream"
  | "no-route" // no route of the Service's HTTPRoutes matched: 404
  | "unknown-service" // the name resolves to no Service
  | "injected-failure" // a backendRef to nothing: the proxy's own 500
  | "client-pod-killed"
  | "other";

export interface FailureRow {
  traffic?: string;
  client: string;
  service: string;
  route: string;
  status: number;
  grpcStatus?: number;
  cause: FailureCause;
  /**
   * Why it was not retried (further): `limit-exceeded`, `budget-exhausted`, `not-retryable`,
   * `no-retry-policy`, `route-not-retryable`, `error-not-retried`, `body-too-large`, …; `unmeshed`
   * for a client without a proxy; `-` where no retry decision applies (the request never reached
   * the retry layer).
   */
  retry: string;
  count: number;
  firstUs: number;
  lastUs: number;
}

/** The cause of a failed final answer, from the response and the flow's own reason. */
export function failureCause(res: HttpResponse, reason: string): FailureCause {
  if (reason === "unknown-service" || reason === "client-pod-killed" || reason === "no-endpoints") return reason;
  switch (res.error) {
    case undefined:
      return res.from === "proxy-backend" ? "injected-failure" : "app-error";
    case "reset":
      return "connection-reset";
    case "other":
      return "other";
    default:
      return res.error;
  }
}

export class FailureBook {
  private readonly rows = new Map<string, FailureRow>();

  constructor(private readonly window: [number, number]) {}

  record(labels: SeriesLabels, res: { status: number; grpcStatus?: number }, cause: FailureCause, retry: string, nowUs: number): void {
    if (nowUs < this.window[0] || nowUs >= this.window[1]) return;
    const key = `${labels.traffic ?? ""}|${labels.client ?? ""}|${labels.service ?? ""}|${labels.route ?? ""}|${res.status}|${res.grpcStatus ?? ""}|${cause}|${retry}`;
    const row = this.rows.get(key);
    if (row !== undefined) {
      row.count += 1;
      row.lastUs = nowUs;
      return;
    }
    this.rows.set(key, {
      ...(labels.traffic === undefined ? {} : { traffic: labels.traffic }),
      client: labels.client ?? "",
      service: labels.service ?? "",
      route: labels.route ?? "",
      status: res.status,
      ...(res.grpcStatus === undefined ? {} : { grpcStatus: res.grpcStatus }),
      cause,
      retry,
      count: 1,
      firstUs: nowUs,
      lastUs: nowUs,
    });
  }

  /** Every row, most failures first (then by client, service, route, status, cause: a stable order). */
  sorted(): FailureRow[] {
    const key = (r: FailureRow): string => `${r.client}|${r.service}|${r.route}|${String(r.status).padStart(3, "0")}|${r.cause}|${r.retry}|${r.traffic ?? ""}`;
    return [...this.rows.values()].sort((a, b) => b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
}
