// A pod: an application container, an inbound and outbound proxy when meshed, a readiness state
// the kubelet maintains, and an owner identity for its pending events (a dead pod's events are
// dropped centrally by the kernel).

import type { Owner } from "../sim/event-queue.js";
import type { Degradation } from "./app.js";
import type { HttpRequest, HttpResponse, Respond } from "./http.js";
import type { CounterSeries, ServerSeries } from "./metrics.js";

/** The readiness probe of the pod's first container, Kubernetes defaults applied. */
export interface ReadinessProbe {
  initialDelayUs: number;
  periodUs: number;
  timeoutUs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** What a Deployment stamps onto its pods. */
export interface WorkloadTemplate {
  cluster: string;
  namespace: string;
  deployment: string;
  labels: Record<string, string>;
  serviceAccount: string;
  meshed: boolean;
  readinessProbe: ReadinessProbe | undefined;
}

/** What runs in a pod and answers requests: an application, or the gateway's forwarding proxy. */
export interface Container {
  handle(request: HttpRequest, respond: Respond, probe?: boolean): void;
  /** The pod died: every request it holds ends with `response`. */
  abandonAll(response: HttpResponse): void;
  readonly slots: number;
  degrade(d: Degradation): void;
  /** Requests (not probes) in service or queued, counted from its own queues (an invariant's other side). */
  heldRequests(): number;
}

/** How a pod sends a request: through its outbound proxy when meshed, straight to a pod otherwise. */
export interface Client {
  send(request: HttpRequest, respond: Respond, traffic: string | undefined): void;
  /** The pod died: end every request it has in progress, and stop listening to the control plane. */
  abandon(): void;
}

export class Pod implements Owner {
  alive = true;
  ready: boolean;
  /** Readiness probe counters (kubelet). */
  probeSuccesses = 0;
  probeFailures = 0;
  /** Fault: the readiness endpoint answers failure. */
  probeForcedFail = false;
  readonly label: string;
  app!: Container;
  client!: Client;
  /** Metric series of this pod's inbound side, set when the pod is created. */
  serverSeries!: ServerSeries;
  /** Requests that arrived at this pod, by traffic (SeriesCache.arrivals). */
  arrivalSeries: Map<string, CounterSeries> | undefined;
  /** `viz edges` rows this pod opened, by server pod. */
  readonly edges = new Map<Pod, { requests: number }>();

  constructor(
    readonly template: WorkloadTemplate,
    readonly name: string,
    readonly startedUs: number,
    initiallyReady: boolean,
  ) {
    this.ready = initiallyReady;
    this.label = `pod/${template.cluster}/${template.namespace}/${name}`;
    this.workload = `${template.cluster}/${template.namespace}/${template.deployment}`;
    this.identity = `${template.serviceAccount}.${template.namespace}`;
  }

  /** The mTLS identity, `sa.ns` as `viz edges` prints it (a pod keeps its template, so its identity). */
  readonly identity: string;

  /** `cluster/namespace/deployment`, the workload label metrics use (a pod keeps its template). */
  readonly workload: string;

  get cluster(): string {
    return this.template.cluster;
  }
  get namespace(): string {
    return this.template.namespace;
  }
  get meshed(): boolean {
    return this.template.meshed;
  }
}
