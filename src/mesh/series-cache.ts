// Metric series looked up by labels, created on first use and kept: the hot paths (every attempt,
// every arrival) ask for the same few series again and again, and building a series is not cheap.

import type { CounterName, CounterSeries, GaugeSeries, MeshMetrics, RequestSeries, SeriesLabels, ServerSeries } from "./metrics.js";
import type { Pod } from "./pod.js";

export class SeriesCache {
  private readonly byKey = new Map<string, unknown>();

  constructor(private readonly metrics: MeshMetrics) {}

  /** Logical requests as the client sees them (after retries). */
  request(labels: SeriesLabels): RequestSeries {
    return this.cached("r", labels, () => this.metrics.request(labels));
  }

  /** Attempts the client proxy sent (first tries and retries). */
  attempt(labels: SeriesLabels): RequestSeries {
    return this.cached("a", labels, () => this.metrics.attempt(labels));
  }

  counter(name: CounterName, labels: SeriesLabels): CounterSeries {
    return this.cached(`c:${name}`, labels, () => this.metrics.counter(name, labels));
  }

  inFlight(labels: SeriesLabels): GaugeSeries {
    return this.cached("g", labels, () => this.metrics.inFlight(labels));
  }

  /** The pod's server side: requests its app answered, busy slots, capacity. Kept on the pod itself. */
  server(pod: Pod): ServerSeries {
    pod.serverSeries ??= this.metrics.server({ server: pod.workload, pod: pod.name });
    return pod.serverSeries;
  }

  /** Requests that arrived at the pod from `traffic`, at its proxy or (unmeshed) its app. Kept on the pod. */
  arrivals(pod: Pod, traffic: string): CounterSeries {
    pod.arrivalSeries ??= new Map();
    let c = pod.arrivalSeries.get(traffic);
    if (c === undefined) {
      c = this.counter("arrivals", { traffic, server: pod.workload });
      pod.arrivalSeries.set(traffic, c);
    }
    return c;
  }

  private cached<T>(kind: string, labels: SeriesLabels, make: () => T): T {
    const key = `${kind}|${labels.traffic ?? ""}|${labels.client ?? ""}|${labels.service ?? ""}|${labels.route ?? ""}|${labels.backend ?? ""}|${labels.server ?? ""}|${labels.pod ?? ""}`;
    let s = this.byKey.get(key) as T | undefined;
    if (s === undefined) {
      s = make();
      this.byKey.set(key, s);
    }
    return s;
  }
}
