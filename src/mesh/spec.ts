// What the simulated world is built from: a scenario after loading and normalisation. Durations
// are integer microseconds, rates are per second, distributions are kernel specs. Kubernetes
// configuration stays as real objects (`K8sObject`); everything else is the simulator's own.

import type { K8sObject, SourcePosition } from "../k8s/object.js";
import type { DistributionSpec } from "../sim/distributions.js";

export interface WorldSpec {
  name: string;
  description: string;
  seed: string;
  durationUs: number;
  /** Excluded from expectation and report windows unless a window names it. */
  warmupUs: number;
  clusters: ClusterSpec[];
  /** `linkerd multicluster link` equivalents: `from` mirrors `to`'s exported Services. */
  links: LinkSpec[];
  /** Global DNS names with health-checked failover records (the pre-mesh baseline). */
  dns: DnsSpec[];
  mesh: MeshSettings;
  network: NetworkSpec;
  behavior: BehaviorSpec[];
  traffic: TrafficSpec[];
  faults: FaultSpec[];
  /** Configuration changes the API servers accept during the run, in time order; absent ⇒ none. */
  changes?: ChangeSpec[];
  expect: ExpectSpec[];
  report: ReportSpec;
}

export interface ClusterSpec {
  name: string;
  /** Every object from `manifests:` and the `services:` shorthand, in file order. */
  objects: K8sObject[];
  /** Trust anchor id; clusters sharing one trust each other. Default: mesh.trustAnchor. */
  trustAnchor: string;
  /** Cluster DNS domain. Default `cluster.local`. */
  domain: string;
  /** Worker nodes: a DaemonSet runs one pod on each. Default 1. */
  nodes: number;
}

export interface LinkSpec {
  /** The cluster that mirrors (where the Link object lives). */
  from: string;
  /** The cluster whose exported Services are mirrored (its gateway serves them). */
  to: string;
  /** Gateway probe period (the gateway's `mirror.linkerd.io/probe-period`). Default 3 s. */
  probePeriodUs: number;
  /** `linkerd multicluster link --cluster-name`: names the mirrors (`<svc>-<clusterName>`). Default `to`. */
  clusterName: string;
}

/** A global name (e.g. `auth.global`) answered with one region's Service, health-checked. */
export interface DnsSpec {
  name: string;
  /** How long clients cache an answer. */
  ttlUs: number;
  /** In priority order: the first healthy record is served. */
  records: Array<{ cluster: string; namespace: string; service: string }>;
  healthCheck: {
    intervalUs: number;
    /** Consecutive failed checks before a record counts as unhealthy. */
    failureThreshold: number;
  };
}

export interface MeshSettings {
  trustAnchor: string;
  /** Overhead added by each proxy a request passes (outbound and inbound each count once). */
  proxyLatency: DistributionSpec;
  /**
   * The control-plane chain from a readiness change to the proxies, one delay per hop (each drawn
   * per event from its distribution; the scenario schema states each default and its source).
   */
  controlPlane: ControlPlaneDelays;
  failover: {
    /** `readiness` = real linkerd-failover; `success-rate-ramp` = the guide's gradual, success-rate-driven alternative. */
    mode: "readiness" | "success-rate-ramp";
    /** From the operator deciding on a change to its TrafficSplit patch being accepted by the API server. */
    reconcileDelay: DistributionSpec;
    /** Parameters of `success-rate-ramp` (ignored by `readiness`). */
    successRate: {
      windowUs: number;
      /** Success rate below which weight moves away from the primary (0..1). */
      threshold: number;
      /** Fraction of the total weight moved per interval. */
      step: number;
      intervalUs: number;
      /** Requests the window needs before the ramp acts. */
      minSamples: number;
    };
  };
  /** Identity: issuer validity from t = 0 and the leaf lifetime. */
  identity: {
    issuerValidityUs: number;
    leafLifetimeUs: number;
  };
  /**
   * Each link target's multicluster gateway: one pod that is one proxy process. A request crossing
   * it passes that proxy once (one proxy latency), and its admin port answers the probes.
   */
  gateway: {
    /** Requests the gateway forwards at once; more wait. */
    concurrency: number;
  };
}

/** The hops of the control-plane chain a failover travels, each a delay distribution (µs). */
export interface ControlPlaneDelays {
  /** Kubelet readiness decision (or a pod going away) → its Services' Endpoints objects written. */
  endpointsDelay: DistributionSpec;
  /** An API object written → a controller's watch (informer) delivering it; drawn per delivery. */
  watchDelay: DistributionSpec;
  /** The SMI adaptor seeing a TrafficSplit change → the ServiceProfile's dstOverrides written. */
  smiAdaptorDelay: DistributionSpec;
  /** An object change → a proxy seeing it (the destination controller's push; drawn per proxy per update). */
  propagationDelay: DistributionSpec;
}

export interface NetworkSpec {
  /** One-way latency between two pods in the same cluster. */
  podToPod: DistributionSpec;
  /** One-way latency added between clusters, per unordered pair. */
  between: Array<{ clusters: [string, string]; latency: DistributionSpec }>;
}

/** Which pods a behaviour, fault or expectation means; absent fields match everything. */
export interface Selector {
  cluster?: string;
  namespace?: string;
  deployment?: string;
  /** Behaviours only: pods whose template runs this container image (a revision `setImage` rolls out). */
  image?: string;
}

export interface BehaviorSpec {
  select: Selector;
  /** Requests a pod serves at once. */
  concurrency: number;
  /** Requests that may wait FIFO beyond `concurrency`; more are refused with 503. */
  queueLimit: number;
  /** Service time when no route below matches. */
  latency: DistributionSpec;
  routes: BehaviorRoute[];
  errors: ErrorSpec;
  /** Downstream calls made while serving a request. */
  calls: CallSpec[];
  /** `sequential`: one call after another; `parallel`: all at once, respond when all are back. */
  callMode: "sequential" | "parallel";
}

export interface BehaviorRoute {
  match: { method?: string; path?: string };
  latency?: DistributionSpec;
  /** Non-idempotent: executions beyond the first of one logical request count as duplicates. */
  sideEffect: boolean;
  errors?: ErrorSpec;
  calls?: CallSpec[];
}

export interface ErrorSpec {
  /** Probability a served request answers `status` (with `grpcStatus`, when set). */
  rate: number;
  /** HTTP status of the error answers: 500 by default, 200 when `grpcStatus` is set. */
  status: number;
  /** The answers' grpc-status (0..16), or `none`: a gRPC answer that ends without any. Absent ⇒ a plain HTTP error. */
  grpcStatus?: number | "none";
  /** Where the grpc-status travels; only the retry layer can tell the difference (see `GrpcStatusPlace`). Default `headers`. */
  grpcStatusIn?: "headers" | "trailers" | "streamed";
}

/**
 * How a client decides whether a request is gRPC (sends `content-type: application/grpc`):
 * `grpc` or `http` as written, or `auto` — gRPC when the target Service port looks like one
 * (see src/mesh/grpc-target.ts).
 */
export type RequestProtocol = "auto" | "http" | "grpc";

export interface CallSpec {
  /** `http://auth.payments.svc.cluster.local:80/verify` style URL; a query string travels with the path. */
  to: string;
  method: string;
  /** Fail the incoming request with 502 when this call fails (default true). */
  required: boolean;
  /** Default `auto`. */
  protocol?: RequestProtocol;
  /** Headers this call sets (lower-case names); absent ⇒ none. */
  headers?: Record<string, string>;
  /** Headers copied from the request being served: all of them (`true`), those named, or none (absent, `false`). */
  forwardHeaders?: boolean | string[];
  /** Made after the response is sent, its outcome ignored (fire-and-forget: the scenario's `async: true`); absent ⇒ while serving. */
  afterResponse?: boolean;
  /** Chance the call is made for a request, drawn from `app/<pod>/calls`; absent ⇒ 1 (always, no draw). */
  probability?: number;
}

export type ArrivalSpec =
  | { kind: "poisson" }
  | { kind: "constant" }
  | { kind: "closed-loop"; users: number; thinkTime: DistributionSpec };

/** Rate over time: steps and linear ramps; the first point is at 0. */
export interface RatePoint {
  atUs: number;
  rateRps: number;
  /** Ramp linearly from `rateRps` to this over `overUs`. */
  rampToRps?: number;
  overUs?: number;
}

export interface TrafficSpec {
  name: string;
  from: { cluster: string; namespace: string; deployment: string };
  /** Target URL (scheme, authority with optional port). */
  to: string;
  arrivals: ArrivalSpec;
  rate: RatePoint[];
  /** Whether the requests are gRPC (`content-type: application/grpc`), as a client decides it. Default `auto`. */
  protocol?: RequestProtocol;
  requests: TrafficRequest[];
}

export interface TrafficRequest {
  method: string;
  /** Path with its query string, if any. */
  path: string;
  weight: number;
  bodyBytes: number;
  /** Request headers (lower-case names); absent ⇒ none. */
  headers?: Record<string, string>;
}

export type FaultAction =
  | { kind: "killPods"; select: Selector; count: number }
  | { kind: "scale"; select: Selector; replicas: number }
  | { kind: "degrade"; select: Selector; errorRate?: number; latencyFactor?: number; capacityFactor?: number }
  | { kind: "readinessFail"; select: Selector }
  | { kind: "latency"; between: [string, string]; addUs: number }
  | { kind: "partition"; between: [string, string] }
  | { kind: "controlPlaneDown"; cluster: string }
  | { kind: "clusterLoss"; cluster: string }
  | { kind: "restartPods"; select: Selector }
  | { kind: "issuerExpire"; cluster: string }
  | { kind: "issuerRotate"; cluster: string; anchor?: string }
  | { kind: "anchorBundle"; cluster: string; anchor: string }
  | { kind: "anchorIssuer"; cluster: string; anchor: string }
  | { kind: "anchorDrop"; cluster: string; anchor: string }
  | { kind: "anchorReplace"; cluster: string; anchor: string };

/** An object a change names; `namespace` is absent for a cluster-scoped kind. */
export interface ObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

/** What one change asks the API server to do (see src/mesh/changes.ts). */
export type ChangeAction =
  | { kind: "apply"; objects: K8sObject[] }
  | { kind: "annotate" | "label"; target: ObjectRef; set: Record<string, string>; remove: string[] }
  | { kind: "patch"; target: ObjectRef; merge: Record<string, unknown> }
  | { kind: "delete"; target: ObjectRef }
  | { kind: "rolloutRestart"; target: ObjectRef }
  | { kind: "setImage"; target: ObjectRef; container?: string; image: string };

/** A configuration change: accepted by `cluster`'s API server at `atUs`, then seen by its controllers. */
export interface ChangeSpec {
  atUs: number;
  cluster: string;
  action: ChangeAction;
  /** Where it was written, `changes[3]`: named in the trace, the summary and diagnostics. */
  entry: string;
  /** Where the entry starts in the scenario file. */
  source: SourcePosition;
  /** Where the change writes a field of its object (`metadata.annotations.x` ⇒ the `set` key); undefined ⇒ a field it leaves alone. */
  positionOf(objectPath: ReadonlyArray<string | number>): SourcePosition | undefined;
}

export interface FaultSpec {
  atUs: number;
  /** Healed at this instant; absent ⇒ permanent. */
  untilUs?: number;
  action: FaultAction;
}

/** The quantities an expectation can measure. */
export type Metric =
  | "requests" | "rps" | "successRate" | "effectiveSuccessRate" | "actualSuccessRate"
  | "latencyMean" | "latencyP50" | "latencyP95" | "latencyP99" | "actualLatencyP50" | "actualLatencyP95" | "actualLatencyP99"
  | "attempts" | "retries" | "retryRatio" | "amplification" | "budgetExhausted" | "failFast" | "loadShed"
  | "failed" | "duplicates" | "inFlight" | "utilization"
  | "latencyAbove" | "queueDelayMean" | "queueDelayP99";

export interface MetricFilter {
  traffic?: string;
  /** `GET /verify` (method and path) or a route name. */
  route?: string;
  /** Client workload `cluster/namespace/deployment`. */
  client?: string;
  /** Destination service name (as addressed). */
  service?: string;
  /** Server workload `cluster/namespace/deployment`. */
  server?: string;
}

export type Bound = { equals: number } | { atMost: number } | { atLeast: number } | { between: [number, number] };

/** How many seeds of `meshsim verify` an expectation must hold on. */
export interface SeedRequirement {
  /** A fraction in (0, 1]: it must hold on at least this share of the seeds (rounded up). */
  atLeast: number;
}

export type ExpectSpec = ExpectVariant & {
  /** For `meshsim verify`; absent ⇒ every seed. A single run ignores it. */
  seeds?: SeedRequirement;
};

type ExpectVariant =
  | {
      name: string;
      kind: "metric";
      metric: Metric;
      where: MetricFilter;
      window: [number, number];
      bound: Bound;
      /** `latencyAbove` only (required there): the latency a request must exceed to count. */
      thresholdUs?: number;
      /** Pass when the filter matches no request in the window; absent ⇒ that fails. */
      allowEmpty?: boolean;
    }
  | {
      name: string;
      kind: "failover";
      /** `namespace/name` of the TrafficSplit. */
      trafficSplit: string;
      cluster: string;
      /** Measure from this instant (usually when the fault starts). */
      afterUs: number;
      /**
       * Which instant counts as the failover: `patched` (the operator's patch accepted by the API
       * server) or `proxiesSwitched` (the last proxy holding the split's Service has the new weights).
       */
      at: "patched" | "proxiesSwitched";
      /** Pass if the primary loses its weight within this long; absent with `never` ⇒ it must not. */
      withinUs?: number;
      /** Pass only if the primary loses its weight no sooner than this long after `after`; absent ⇒ no lower bound. */
      atLeastUs?: number;
      /** Pass only if the primary keeps its weight from `after` to the end. */
      never?: boolean;
      /** Pass when the failover operator does not manage the TrafficSplit; absent ⇒ that fails. */
      allowEmpty?: boolean;
    }
  | {
      name: string;
      kind: "canary";
      /** `namespace/name`; absent ⇒ the only Canary. */
      canary?: string;
      cluster?: string;
      verdict: "promoted" | "rolledBack";
      /** Whether the verdict must have happened (true) or must not have (false). */
      happened: boolean;
      afterUs: number;
      withinUs?: number;
      atLeastUs?: number;
    }
  | { name: string; kind: "reached"; mark: string; bound: Bound }
  | { name: string; kind: "invariant"; invariant: string };

export interface ReportSpec {
  timelineUs: number;
  charts: string[];
}
