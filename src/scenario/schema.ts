// The scenario file's own sections as one strict zod schema: unknown keys are errors, leaves parse
// durations, rates and distributions, and defaults are written here once (as `prefault`s in the
// form a user would type them) so validation, `meshsim explain`, the JSON Schema for editors and
// scenarios/README.md all read the same source. Kubernetes objects are checked only loosely here;
// src/k8s validates the fields the simulator reads.

import { z } from "zod";
import type { Metric } from "../mesh/spec.js";
import { GRPC_CODE_NAMES } from "../policy/classify.js";
import { distributionSchema, durationSchema, httpUrlSchema, periodSchema, rateSchema } from "./values.js";

const SLUG = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const slug = (what: string) => z.string().regex(SLUG, { error: `${what} must be a slug: lower-case letters, digits and dashes` });

/** Every quantity an expectation can measure, exactly as `Metric` in mesh/spec.ts. */
export const METRICS = [
  "requests", "rps", "successRate", "effectiveSuccessRate", "actualSuccessRate",
  "latencyMean", "latencyP50", "latencyP95", "latencyP99", "actualLatencyP50", "actualLatencyP95", "actualLatencyP99",
  "attempts", "retries", "retryRatio", "amplification", "budgetExhausted", "failFast", "loadShed",
  "failed", "duplicates", "inFlight", "utilization",
  "latencyAbove", "queueDelayMean", "queueDelayP99",
] as const satisfies readonly Metric[];
// Fails to compile when spec.ts gains a metric this list lacks.
const metricsComplete: Exclude<Metric, (typeof METRICS)[number]> extends never ? true : false = true;
void metricsComplete;

/** Online invariants a scenario can name; every run checks them. */
export const INVARIANTS = ["requests-end-once"] as const;

export const FAULT_KINDS = [
  "killPods", "scale", "degrade", "readinessFail", "latency", "partition", "controlPlaneDown", "clusterLoss",
  "restartPods", "issuerExpire", "issuerRotate", "anchorBundle", "anchorIssuer", "anchorDrop", "anchorReplace",
] as const;
export const CHARTS = ["rps", "successRate", "latency", "retries", "weights", "gateways"] as const;

const selector = z
  .strictObject({
    cluster: z.string().min(1).optional().describe("Cluster name; absent: every cluster."),
    namespace: z.string().min(1).optional().describe("Namespace; absent: every namespace."),
    deployment: z.string().min(1).optional().describe("Deployment name; absent: every deployment."),
  })
  .meta({ title: "selector" });

const clusterPair = z.tuple([z.string().min(1), z.string().min(1)]).meta({ title: "[cluster, cluster]" });

const serviceShorthand = z.strictObject({
  name: z.string().min(1).describe("Deployment and Service name; pods are labelled app=<name>."),
  namespace: z.string().min(1).prefault("default").describe("Namespace; created if no manifest defines it."),
  replicas: z.int().min(0).prefault(1).describe("Deployment replicas."),
  meshed: z.boolean().prefault(true).describe("Inject the Linkerd proxy (linkerd.io/inject: enabled)."),
  port: z.int().min(1).max(65535).prefault(80).describe("Service port and containerPort."),
  readinessProbe: z.record(z.string(), z.unknown()).optional().describe("A Kubernetes readinessProbe for the container, as in a Pod spec."),
});

const k8sInline = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).optional() }),
}).meta({ title: "Kubernetes object" });

const manifestSet = z.union(
  [
    z.string().min(1),
    z.strictObject({
      files: z.array(z.string().min(1)).min(1).describe("Manifest files, directories or globs, relative to the scenario file."),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "a namespace name: lower-case letters, digits and dashes" }).optional().describe("As `kubectl apply -n NAME`: namespaced objects that name no namespace land here. Absent: `default`."),
      inject: z.boolean().prefault(false).describe("As if the files were piped through `linkerd inject`: every workload's pod template gets `linkerd.io/inject: enabled` (a template saying `disabled` is skipped, as the CLI does)."),
    }),
  ],
  { error: "expected a file, directory or glob, or {files: [...], namespace: NAME, inject: true}" },
).meta({ title: "manifest set" });

const cluster = z.strictObject({
  name: slug("a cluster name").describe("Cluster name, used by selectors, links and faults."),
  manifests: z.array(manifestSet).prefault([]).describe("Kubernetes manifests, relative to the scenario file: a file, directory (its *.yaml, *.yml and *.json, as `kubectl apply -f DIR`) or glob, or `{files, namespace, inject}` for files applied with `kubectl -n` or piped through `linkerd inject`. Multi-document files and `kind: List` work; a later definition of an object replaces an earlier one, as a second `kubectl apply` would."),
  objects: z.array(k8sInline).prefault([]).describe("Kubernetes objects written inline, exactly as in a manifest."),
  services: z.array(serviceShorthand).prefault([]).describe("Shorthand: each entry expands to a Namespace, a Deployment and a Service."),
  trustAnchor: z.string().min(1).optional().describe("Trust anchor of this cluster. Default: mesh.trustAnchor."),
  domain: z.string().min(1).prefault("cluster.local").describe("Cluster DNS domain."),
  nodes: z.int().min(1).max(10000).prefault(1).describe("Worker nodes; a DaemonSet runs one pod on each."),
  inject: z.boolean().prefault(false).describe("As if every manifest and inline object of this cluster was piped through `linkerd inject` (see `manifests`); the `services:` shorthand says `meshed` itself."),
});

const mesh = z.strictObject({
  trustAnchor: z.string().min(1).prefault("root").describe("Trust anchor id; clusters with the same anchor trust each other."),
  proxy: z
    .strictObject({ latency: distributionSchema().prefault({ dist: "constant", value: "150us" }).describe("Overhead added by each proxy a request passes (outbound and inbound each count once).") })
    .prefault({})
    .describe("The sidecar proxies."),
  // The hops of the chain a failover travels (reference §6.2: readiness → Endpoints → failover
  // patch → SMI adaptor → destination controller → proxies). Each default is a healthy cluster's
  // order of magnitude, reasoned from what the hop does (API round trips and watches take
  // milliseconds); the descriptions say what each one covers.
  controlPlane: z
    .strictObject({
      endpointsDelay: distributionSchema()
        .prefault({ dist: "uniform", min: "5ms", max: "50ms" })
        .describe(
          "From the kubelet deciding a pod's readiness (or a pod going away) to its Services' Endpoints objects being written, drawn per sync: the kubelet's pod-status write, kube-controller-manager's Endpoints controller seeing it through its pod watch and syncing the Service from its workqueue (`--endpoint-updates-batch-period` defaults to 0: no batching; changes that arrive while a sync waits are written together), then the Endpoints write. Everything that reads Endpoints follows it: proxies, kube-proxy, the service mirror, linkerd-failover.",
        ),
      watchDelay: distributionSchema()
        .prefault({ dist: "uniform", min: "1ms", max: "10ms" })
        .describe(
          "From an API object being written to a controller's watch (informer) delivering it, drawn per delivery: linkerd-failover's Endpoints and TrafficSplit watches, the SMI adaptor's TrafficSplit watch, and a service mirror's watch of the remote cluster (on top of the WAN).",
        ),
      smiAdaptorDelay: distributionSchema()
        .prefault({ dist: "uniform", min: "3ms", max: "30ms" })
        .describe(
          "From the SMI adaptor's watch delivering a TrafficSplit change to the ServiceProfile's dstOverrides being written: its workqueue (no wait on a first add), a GET of the TrafficSplit and of the ServiceProfile and the ServiceProfile update, three API round trips (linkerd-smi `pkg/adaptor/controller.go`).",
        ),
      propagationDelay: distributionSchema()
        .prefault({ dist: "uniform", min: "50ms", max: "300ms" })
        .describe("From an object change (Endpoints, a ServiceProfile, a route) to a proxy seeing it: the destination and policy controllers' watch and push, drawn per proxy per update."),
    })
    .prefault({})
    .describe("The control-plane chain from a readiness change to the proxies: Kubernetes' Endpoints controller and API watches, the SMI adaptor, the destination and policy controllers."),
  failover: z
    .strictObject({
      mode: z
        .enum(["readiness", "success-rate-ramp"])
        .prefault("readiness")
        .describe("`readiness`: real linkerd-failover (all-or-nothing on Endpoints readiness); `success-rate-ramp`: the guide's gradual, success-rate-driven alternative."),
      reconcileDelay: distributionSchema()
        .prefault({ dist: "uniform", min: "2ms", max: "20ms" })
        .describe(
          "From the operator deciding on new weights (its watch delivered an Endpoints or TrafficSplit change; the ramp's tick) to its merge patch of the TrafficSplit being accepted by the API server: one API round trip, drawn per patch. Patches go out one at a time, as linkerd-failover sends them from one task (`controller/src/main.rs`).",
        ),
      successRate: z
        .strictObject({
          window: periodSchema().prefault("10s").describe("Sliding window the primary's success rate is measured over."),
          threshold: z.number().min(0).max(1).prefault(0.9).describe("Below this success rate, weight moves away from the primary."),
          step: z.number().gt(0).max(1).prefault(0.25).describe("Fraction of the total weight moved per interval."),
          interval: periodSchema().prefault("1s").describe("How often the ramp looks and moves."),
          minSamples: z.int().min(1).prefault(20).describe("Requests the window needs before the ramp acts."),
        })
        .prefault({})
        .describe("Parameters of `success-rate-ramp` (ignored by `readiness`)."),
    })
    .prefault({})
    .describe("The failover operator."),
  identity: z
    .strictObject({
      issuerValidity: durationSchema().prefault("8760h").describe("How long the issuer (and trust anchor) stays valid from the start of the run."),
      leafLifetime: durationSchema().prefault("24h").describe("Proxy certificate lifetime (`identity.issuer.issuanceLifetime`)."),
    })
    .prefault({})
    .describe("The identity issuer and proxy certificates."),
  gateway: z
    .strictObject({ concurrency: z.int().min(1).prefault(10000).describe("Requests the gateway proxy forwards at once; more wait.") })
    .prefault({})
    .describe(
      "Each link target's multicluster gateway, `linkerd-gateway` in `linkerd-multicluster`: one pod that is one proxy process, so a request crossing it passes one proxy (one `mesh.proxy.latency`), as the reference models the gateway hop. Its admin port answers the linking cluster's probes, which its service mirror sends through its own proxy (`probe-gateway-<cluster>`), so fail-fast and load shedding apply to them. Expectations name it `<cluster>/linkerd-multicluster/linkerd-gateway` (e.g. `where: {server: ...}`).",
    ),
});

const network = z.strictObject({
  podToPod: distributionSchema().prefault({ dist: "lognormal", median: "200us", p99: "1ms" }).describe("One-way latency between two pods of one cluster."),
  between: z
    .array(
      z.strictObject({
        clusters: clusterPair.describe("The two clusters (unordered)."),
        latency: distributionSchema().describe("One-way latency added between them."),
      }),
    )
    .prefault([])
    .describe("Extra latency between clusters."),
});

const grpcStatus = z
  .union([z.enum(GRPC_CODE_NAMES as [string, ...string[]]), z.int().min(0).max(16), z.literal("none")], {
    error: `expected a gRPC status name (${GRPC_CODE_NAMES.join(", ")}), a code 0..16, or none`,
  })
  .meta({ title: "gRPC status" });

const errorSpec = z.strictObject({
  rate: z.number().min(0).max(1).describe("Probability that a served request answers with this error."),
  status: z.int().min(100).max(599).optional().describe("HTTP status of those answers. Default: 500, or 200 with `grpcStatus` (gRPC answers its errors with HTTP 200)."),
  grpcStatus: grpcStatus
    .optional()
    .describe("Answer as a gRPC server: this grpc-status, by name as gRPC spells it (`UNAVAILABLE`) or number, or `none` (the stream ends without one, which Linkerd counts as a success). Linkerd judges it for gRPC requests (`content-type: application/grpc`) and on GRPCRoutes; a plain HTTP request is judged by its HTTP status."),
  grpcStatusIn: z
    .enum(["headers", "trailers", "streamed"])
    .prefault("headers")
    .describe("Where the grpc-status travels: `headers` (a Trailers-Only answer, how gRPC servers send an error without a message), `trailers` (right behind one response message) or `streamed` (after a streamed body). Retries (`retry.linkerd.io/grpc`, ServiceProfile routes) see the first two only; metrics see all three."),
});

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_NAME_ERROR = "is not a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)";
const headerName = z.string().regex(HEADER_NAME, { error: "expected a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)" });
const headerValue = z.union([z.string(), z.number(), z.boolean()], { error: "expected a header value" }).transform(String);
const headers = z
  .record(z.string(), headerValue)
  .superRefine((h, ctx) => {
    for (const name of Object.keys(h)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: `"${name}" ${HEADER_NAME_ERROR}` });
    }
  })
  .meta({ title: "headers" });
const protocol = z.enum(["auto", "http", "grpc"]).prefault("auto");
const PROTOCOL_DOC =
  "`grpc`: requests carry `content-type: application/grpc` (Linkerd classifies them by grpc-status); `http`: they do not; `auto`: gRPC when the target Service port is — it has `appProtocol: grpc`, or a name `grpc` or `grpc-…`, or a GRPCRoute is attached to the Service (Linkerd 2.16 then routes the Service as gRPC). `kubernetes.io/h2c` is not taken as gRPC: plain HTTP/2 clients speak it too. A mirror `<svc>-<cluster>` is judged by its GRPCRoutes only: say `grpc` for a gRPC mirror.";

const call = z.strictObject({
  to: httpUrlSchema().describe("URL called, e.g. http://auth.payments.svc.cluster.local/verify; a query string (`?debug=1`) travels with the path."),
  method: z.string().regex(/^[A-Z]+$/).prefault("GET").describe("HTTP method."),
  required: z.boolean().prefault(true).describe("Fail the incoming request with 502 when this call fails (an error, a 5xx, or a gRPC answer other than OK)."),
  protocol: protocol.describe(PROTOCOL_DOC),
  headers: headers.prefault({}).describe("Headers this call sets, e.g. `{x-canary: \"true\"}`."),
  forwardHeaders: z
    .union([z.boolean(), z.array(headerName)], { error: "expected true, false or a list of header names" })
    .prefault(false)
    .describe("Copy headers of the request being served onto this call: `true` for all (but content-type, which `protocol` decides), or a list of names. `headers` wins over a copied one."),
  async: z
    .boolean()
    .prefault(false)
    .describe("Fire-and-forget: the call is made right after the response is sent, whatever that response was, and its outcome is ignored (`required` does not apply) and its latency not added. It is still a request through the pod's own outbound path, seen by the metrics and `viz edges`; if the pod dies first it is not made, and one in flight ends with the pod's other requests. Sequential and parallel calls without `async` run as before, and the response waits only for them."),
  probability: z
    .number()
    .min(0)
    .max(1)
    .prefault(1)
    .describe("Chance the call is made for a given request, drawn per request from the pod's stream `app/<pod>/calls` (no draw at 1); a call not made counts as succeeded. Each call draws on its own: a behaviour whose one call is `async` with probability p sends each request it served on with probability p, as routing in an open Jackson network does (scenarios/jackson-network.yaml)."),
});

const route = z.strictObject({
  match: z
    .strictObject({
      method: z.string().regex(/^[A-Z]+$/).optional().describe("HTTP method; absent: any."),
      path: z.string().startsWith("/").optional().describe("Request path; absent: any."),
    })
    .describe("Which requests this route is."),
  latency: distributionSchema().optional().describe("Service time of this route. Default: the behaviour's latency."),
  sideEffect: z.boolean().prefault(false).describe("Non-idempotent: executions beyond the first of one request count as duplicates."),
  errors: errorSpec.optional().describe("Error behaviour of this route. Default: the behaviour's errors."),
  calls: z.array(call).optional().describe("Downstream calls of this route. Default: the behaviour's calls."),
});

/** A behaviour's selector: a fault's, plus the image a pod template runs (so a new revision can behave differently). */
const behaviorSelector = z.strictObject({
  cluster: z.string().min(1).optional().describe("Cluster name; absent: every cluster."),
  namespace: z.string().min(1).optional().describe("Namespace; absent: every namespace."),
  deployment: z.string().min(1).optional().describe("Deployment name; absent: every deployment."),
  image: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Pods whose template runs this container image, as written in the manifest or by a `setImage` change (`ghcr.io/example/web:1.5.0`): the pods of that revision behave this way, the others as the rest of the entries say. Each pod takes its behaviour when it starts. Absent: any image.",
    ),
});

const behavior = z.strictObject({
  select: behaviorSelector.prefault({}).describe("Which pods behave this way; absent fields match everything, and the entry naming the most of them wins."),
  concurrency: z.int().min(1).prefault(32).describe("Requests a pod serves at once."),
  queueLimit: z.int().min(0).prefault(512).describe("Requests that may wait (FIFO) beyond concurrency; more get 503."),
  latency: distributionSchema().prefault({ dist: "exponential", mean: "1ms" }).describe("Service time when no route matches."),
  routes: z.array(route).prefault([]).describe("Per-route service times, errors and calls; the first match wins."),
  errors: errorSpec.prefault({ rate: 0 }).describe("Errors the app answers on its own."),
  calls: z.array(call).prefault([]).describe("Downstream calls made while serving a request."),
  callMode: z.enum(["sequential", "parallel"]).prefault("sequential").describe("`sequential`: one call after another; `parallel`: all at once."),
});

const ratePoint = z.strictObject({
  at: durationSchema().describe("When this point starts."),
  rate: rateSchema().optional().describe("Rate from `at` on (a step)."),
  rampTo: rateSchema().optional().describe("Ramp linearly to this rate..."),
  over: durationSchema().optional().describe("...over this long."),
}).superRefine((p, ctx) => {
  if (p.rampTo === undefined && p.over !== undefined) ctx.addIssue({ code: "custom", path: ["over"], message: "over belongs to a ramp; add rampTo" });
  if (p.rampTo !== undefined && p.over === undefined) ctx.addIssue({ code: "custom", path: ["rampTo"], message: "a ramp needs over: how long it takes" });
  if (p.rate === undefined && p.rampTo === undefined) ctx.addIssue({ code: "custom", message: "a schedule point needs rate or rampTo", params: { expected: "{at, rate} or {at, rampTo, over}" } });
});

const rateSchedule = z
  .array(ratePoint)
  .min(1)
  .superRefine((points, ctx) => {
    points.forEach((p, i) => {
      const next = points[i + 1];
      if (next === undefined) return;
      if (next.at <= p.at) ctx.addIssue({ code: "custom", path: [i + 1, "at"], message: "schedule points must be in time order, each later than the one before" });
      else if (p.over !== undefined && p.at + p.over > next.at) {
        ctx.addIssue({ code: "custom", path: [i, "over"], message: "this ramp runs past the next schedule point; shorten it or move the next point" });
      }
    });
  });

const arrivals = z.union(
  [
    z.enum(["poisson", "constant"]),
    z.strictObject({
      closedLoop: z
        .strictObject({
          users: z.int().min(1).describe("Concurrent users, each waiting for its response before thinking again."),
          thinkTime: distributionSchema().describe("Pause between a response and the user's next request."),
        })
        .describe("A closed loop: a fixed number of users, each sending its next request a think time after the last response."),
    }),
  ],
  { error: "expected poisson, constant or {closedLoop: {users, thinkTime}}" },
);

const traffic = z.strictObject({
  name: z.string().min(1).describe("Name, used by expectations (`where: {traffic: ...}`) and reports."),
  from: z
    .strictObject({
      cluster: z.string().min(1).optional().describe("Client cluster. Default: the first cluster."),
      namespace: z.string().min(1).describe("Client namespace."),
      deployment: z.string().min(1).describe("Client deployment; its pods send the requests."),
    })
    .describe("The client workload."),
  to: httpUrlSchema().describe("Target URL: http://<service>.<namespace>.svc.cluster.local[:port]. The host must name a Service of the client's cluster as its DNS resolves it (a short name in the client's namespace), a mirror `<service>-<cluster>` a link creates, or a `dns:` name; anything else is an error, and a Service no workload serves a warning."),
  arrivals: arrivals.prefault("poisson").describe("`poisson`, `constant`, or `{closedLoop: {users, thinkTime}}`."),
  rate: z
    .union([rateSchema(), rateSchedule], { error: "expected a rate such as 1500/s or a schedule [{at: 0s, rate: 1000/s}, ...]" })
    .optional()
    .describe("Open-loop arrival rate: `1500/s`, or a schedule `[{at: 0s, rate: 1000/s}, {at: 5m, rampTo: 3000/s, over: 1m}]`. Required unless closedLoop."),
  protocol: protocol.describe(PROTOCOL_DOC),
  requests: z
    .array(
      z.strictObject({
        method: z.string().regex(/^[A-Z]+$/).optional().describe("HTTP method. Default: POST with `protocol: grpc`, else GET."),
        path: z.string().startsWith("/").optional().describe("Request path, with a query string if any (`/search?q=a`). Default: the path of `to`, else `/`."),
        query: z
          .record(z.string().min(1), headerValue)
          .optional()
          .describe("Query parameters appended to the path (URL-encoded), e.g. `{debug: \"1\"}`."),
        headers: headers.prefault({}).describe("Request headers, e.g. `{x-canary: \"true\"}`; names are sent lower-case, as HTTP/2 does. HTTPRoute header matches see them."),
        weight: z.number().positive().prefault(1).describe("Relative share of this request kind."),
        bodyBytes: z.int().min(0).prefault(0).describe("Request body size."),
      }),
    )
    .min(1)
    .optional()
    .describe("The request mix. Default: one request (GET, or POST for gRPC) to the path of `to`."),
}).superRefine((t, ctx) => {
  const closed = typeof t.arrivals === "object";
  if (closed && t.rate !== undefined) ctx.addIssue({ code: "custom", path: ["rate"], message: "a closedLoop workload has no rate: its users set the pace" });
  if (!closed && t.rate === undefined) ctx.addIssue({ code: "custom", message: `missing required key "rate" (${t.arrivals} arrivals need a rate)`, params: { expected: "a rate such as 1500/s or a schedule" } });
});

const faultActions = {
  killPods: z.strictObject({ select: selector.describe("Which pods."), count: z.int().min(1).prefault(1).describe("Pods killed.") }).describe("Kill pods (the Deployment recreates them)."),
  scale: z.strictObject({ select: selector.describe("Which deployments."), replicas: z.int().min(0).describe("New replica count.") }).describe("Scale deployments."),
  degrade: z
    .strictObject({
      select: selector.describe("Which pods."),
      errorRate: z.number().min(0).max(1).optional().describe("Error probability while degraded."),
      latencyFactor: z.number().positive().optional().describe("Service times multiplied by this."),
      capacityFactor: z.number().positive().max(1).optional().describe("Concurrency multiplied by this."),
    })
    .describe("Make pods slower, flakier or smaller."),
  readinessFail: z.strictObject({ select: selector.describe("Which pods.") }).describe("Readiness probes fail."),
  latency: z.strictObject({ between: clusterPair.describe("The two clusters."), add: durationSchema().describe("Extra one-way latency.") }).describe("Add latency between two clusters."),
  partition: z.strictObject({ between: clusterPair.describe("The two clusters.") }).describe("Cut the network between two clusters."),
  controlPlaneDown: z.strictObject({ cluster: z.string().min(1).describe("The cluster.") }).describe("The cluster's control plane stops: proxies keep their last configuration."),
  clusterLoss: z.strictObject({ cluster: z.string().min(1).describe("The cluster.") }).describe("Pods, gateway and control plane of the cluster are gone."),
  restartPods: z.strictObject({ select: selector.describe("Which pods.") }).describe("`kubectl rollout restart`: each pod is replaced by a new one (new proxy, re-reads the trust bundle)."),
  issuerExpire: z.strictObject({ cluster: z.string().min(1).describe("The cluster.") }).describe("The identity issuer expires: certificate requests are refused and leaf certificates run out."),
  issuerRotate: z
    .strictObject({ cluster: z.string().min(1).describe("The cluster."), anchor: z.string().min(1).optional().describe("Anchor that signs the new issuer. Default: the current one.") })
    .describe("A new issuer is installed; accepted only if it chains to a trusted anchor."),
  anchorBundle: z.strictObject({ cluster: z.string().min(1), anchor: z.string().min(1).describe("The new anchor.") }).describe("Anchor rotation step 1: bundle the new anchor with the old (proxies read it when restarted)."),
  anchorIssuer: z.strictObject({ cluster: z.string().min(1), anchor: z.string().min(1).describe("The new anchor.") }).describe("Anchor rotation step 2: a new issuer signed by the new anchor."),
  anchorDrop: z.strictObject({ cluster: z.string().min(1), anchor: z.string().min(1).describe("The old anchor.") }).describe("Anchor rotation step 3: drop the old anchor from the bundle."),
  anchorReplace: z.strictObject({ cluster: z.string().min(1), anchor: z.string().min(1).describe("The anchor.") }).describe("Give the cluster a different anchor (and issuer) at once: a mismatched anchor."),
} satisfies Record<(typeof FAULT_KINDS)[number], z.ZodType>;

const fault = z
  .strictObject({
    at: durationSchema().describe("When the fault starts."),
    until: durationSchema().optional().describe("When it heals; absent: permanent."),
    ...Object.fromEntries(Object.entries(faultActions).map(([k, s]) => [k, s.optional()])),
  } as { at: ReturnType<typeof durationSchema>; until: z.ZodOptional<ReturnType<typeof durationSchema>> } & {
    [K in keyof typeof faultActions]: z.ZodOptional<(typeof faultActions)[K]>;
  })
  .superRefine((f, ctx) => {
    const kinds = FAULT_KINDS.filter((k) => f[k] !== undefined);
    if (kinds.length !== 1) {
      const message = kinds.length === 0 ? "a fault needs a kind" : `a fault has one kind; this one has ${kinds.join(" and ")}`;
      ctx.addIssue({ code: "custom", message, params: { expected: `one of ${FAULT_KINDS.join(", ")}` } });
    }
    if (f.until !== undefined && f.until <= f.at) ctx.addIssue({ code: "custom", path: ["until"], message: "until must be later than at" });
  });

export const CHANGE_KINDS = ["apply", "annotate", "label", "patch", "delete", "rolloutRestart", "setImage"] as const;

const objectName = {
  kind: z.string().min(1).describe("The object's kind as its manifest spells it: `Service`, `HTTPRoute`, `TrafficSplit`, `Deployment`, ..."),
  name: z.string().min(1).describe("Its `metadata.name`."),
  namespace: z.string().min(1).optional().describe("Its namespace. Absent: `default`, as kubectl (a cluster-scoped kind has none)."),
};
const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()], { error: "expected a value (text), or nothing after a key ending in -" });
const metadataEdit = (what: string) =>
  z
    .strictObject({
      ...objectName,
      set: z
        .record(z.string().min(1), metadataValue)
        .prefault({})
        .describe(`${what} to set, \`{key: value}\`, as \`kubectl ${what === "Annotations" ? "annotate" : "label"} --overwrite KIND NAME key=value\`; a number or boolean is set as its text. A key ending in \`-\` (\`key-: \` with no value) removes \`key\`, as kubectl spells it.`),
      remove: z.array(z.string().min(1)).prefault([]).describe(`${what} to remove.`),
    })
    .superRefine((e, ctx) => {
      if (Object.keys(e.set).length === 0 && e.remove.length === 0) ctx.addIssue({ code: "custom", message: `nothing to change: give set or remove` });
      for (const [k, v] of Object.entries(e.set)) {
        if (v === null && !k.endsWith("-")) ctx.addIssue({ code: "custom", path: ["set", k], message: `${k} has no value: write a value, or ${k}- to remove it` });
      }
    });
const workloadName = {
  deployment: z.string().min(1).describe("The Deployment (or StatefulSet or DaemonSet) by name."),
  namespace: z.string().min(1).optional().describe("Its namespace. Absent: `default`."),
};
const applyItem = z
  .union([manifestSet, k8sInline], { error: "expected a Kubernetes object, or a file, directory or glob, or {files: [...], namespace: NAME, inject: true}" })
  .meta({ title: "Kubernetes object or manifest set" });

const changeActions = {
  apply: z
    .array(applyItem)
    .min(1)
    .describe("`kubectl apply`: Kubernetes objects written inline, and files read as `manifests:` reads them (relative to the scenario, inside its directory tree); each object is created, or replaces the one with its kind, namespace and name."),
  annotate: metadataEdit("Annotations").describe("`kubectl annotate`: set or remove annotations of one object."),
  label: metadataEdit("Labels").describe("`kubectl label`: set or remove labels of one object."),
  patch: z
    .strictObject({ ...objectName, merge: z.record(z.string(), z.unknown()).describe("A JSON merge patch (RFC 7386), as `kubectl patch --type merge`: mappings merge key by key, `null` deletes a key, a list replaces the whole list.") })
    .describe("`kubectl patch --type merge`: one object, patched."),
  delete: z.strictObject(objectName).describe("`kubectl delete`: one object."),
  rolloutRestart: z.strictObject(workloadName).describe("`kubectl rollout restart`: the pod template gets a new `kubectl.kubernetes.io/restartedAt` annotation, so the workload rolls out a new revision."),
  setImage: z
    .strictObject({
      ...workloadName,
      container: z.string().min(1).optional().describe("The container to change. Absent: the pod template's only application container."),
      image: z.string().min(1).describe("The new image; `behavior` entries with `select.image` give the new revision's pods their own behaviour."),
    })
    .describe("`kubectl set image`: a new pod-template revision, rolled out as the workload's strategy says."),
} satisfies Record<(typeof CHANGE_KINDS)[number], z.ZodType>;

const change = z
  .strictObject({
    at: durationSchema().describe("When the API server accepts the change."),
    cluster: z.string().min(1).optional().describe("The cluster whose API server takes it. Required when the scenario has more than one cluster."),
    ...Object.fromEntries(Object.entries(changeActions).map(([k, v]) => [k, v.optional()])),
  } as { at: ReturnType<typeof durationSchema>; cluster: z.ZodOptional<z.ZodString> } & { [K in keyof typeof changeActions]: z.ZodOptional<(typeof changeActions)[K]> })
  .superRefine((c, ctx) => {
    const kinds = CHANGE_KINDS.filter((k) => c[k] !== undefined);
    if (kinds.length !== 1) {
      const message = kinds.length === 0 ? "a change needs something to do" : `a change does one thing; this one has ${kinds.join(" and ")}`;
      ctx.addIssue({ code: "custom", message, params: { expected: `one of ${CHANGE_KINDS.join(", ")}` } });
    }
  });

const BOUNDS = ["equals", "atMost", "atLeast", "between"] as const;
const EXPECT_KINDS = ["metric", "reached", "invariant", "failover", "canary"] as const;

const expectation = z
  .strictObject({
    name: z.string().min(1).describe("What this expectation says, in words."),
    metric: z.enum(METRICS).optional().describe("The measured quantity."),
    threshold: durationSchema()
      .optional()
      .describe("`latencyAbove` only, and required there: the latency a request must exceed to count, e.g. `50ms`. The fraction is read from the HDR latency histogram, so it has its resolution (3 significant digits): a latency within 0.1 % of the threshold may count as not above it."),
    where: z
      .strictObject({
        traffic: z.string().min(1).optional().describe("A traffic entry's name."),
        route: z.string().min(1).optional().describe("`GET /verify` (method and path) or a route name."),
        client: z.string().min(1).optional().describe("Client workload `cluster/namespace/deployment`."),
        service: z.string().min(1).optional().describe("Destination service as addressed."),
        server: z.string().min(1).optional().describe("Server workload `cluster/namespace/deployment`."),
      })
      .prefault({})
      .describe("Which requests to measure; absent fields match everything."),
    window: z.tuple([durationSchema(), durationSchema()]).optional().describe("[from, to]. Default: [warmup, duration]."),
    equals: z.number().optional().describe("Bound: the measured value equals this."),
    atMost: z.number().optional().describe("Bound: the measured value is at most this."),
    atLeast: z.number().optional().describe("Bound: the measured value is at least this."),
    between: z.tuple([z.number(), z.number()]).optional().describe("Bound: the measured value lies in [low, high] (inclusive)."),
    reached: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*(\/[a-z0-9-]+)?$/, { error: "expected a trace kind with an optional reason, e.g. retry.skipped/budget-exhausted" })
      .optional()
      .describe("A coverage mark `kind/reason` that must be reached (default bound: atLeast 1)."),
    invariant: z.enum(INVARIANTS).optional().describe("An online invariant that must hold throughout: `requests-end-once` (every request is answered exactly once)."),
    failover: z
      .strictObject({
        trafficSplit: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, { error: "expected namespace/name of a TrafficSplit" }).describe("`namespace/name` of the failover-controlled TrafficSplit."),
        cluster: z.string().min(1).describe("The cluster the TrafficSplit lives in."),
        after: durationSchema().describe("Measure from this instant (usually when the fault starts)."),
        at: z
          .enum(["patched", "proxiesSwitched"])
          .prefault("patched")
          .describe(
            "Which instant is the failover: `patched`, when the operator's patch of the TrafficSplit is accepted (what `kubectl get trafficsplit` and the operator's `Failover` event show; one instant per split, whichever proxies exist), or `proxiesSwitched`, when the last proxy holding the split's Service has the new weights (after the SMI adaptor and the destination controller: when clients have all moved).",
          ),
        within: durationSchema().optional().describe("Pass if the primary loses its weight within this long after `after`."),
        atLeast: durationSchema().optional().describe("Pass only if the primary loses its weight no sooner than this long after `after` (with `within`: a two-sided band)."),
        never: z.literal(true).optional().describe("Pass only if the primary keeps its weight from `after` to the end."),
      })
      .optional()
      .describe("Failover timing: how long after `after` the primary loses its weight, at the operator's patch or once every proxy has switched."),
    canary: z
      .strictObject({
        name: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, { error: "expected namespace/name of a Canary" }).optional().describe("`namespace/name` of the Flagger Canary. Default: the scenario's only Canary."),
        cluster: z.string().min(1).optional().describe("The cluster the Canary lives in. Default: the only one holding it."),
        promoted: z.boolean().optional().describe("`true`: Flagger finished a promotion (phase Succeeded after an analysis) after `after`; `false`: it did not."),
        rolledBack: z.boolean().optional().describe("`true`: Flagger rolled the canary back (phase Failed) after `after`; `false`: it did not."),
        after: durationSchema().prefault("0s").describe("Measure from this instant (usually the change that starts the rollout)."),
        within: durationSchema().optional().describe("With `true`: it happened within this long after `after`."),
        atLeast: durationSchema().optional().describe("With `true`: it happened no sooner than this long after `after` (with `within`: a two-sided band)."),
      })
      .optional()
      .describe("Flagger's verdict on a Canary: promoted or rolled back, and when, counted from `after`."),
    allowEmpty: z
      .boolean()
      .prefault(false)
      .describe("Pass when there is nothing to measure: a metric whose filter matched no request in the window, or a failover expectation on a TrafficSplit the failover operator does not manage. Otherwise such an expectation fails (it would hold for a misspelt filter)."),
    seeds: z
      .strictObject({
        atLeast: z
          .number({ error: "expected a fraction in (0, 1]" })
          .gt(0, { error: "expected a fraction in (0, 1]" })
          .max(1, { error: "expected a fraction in (0, 1]" })
          .prefault(1)
          .describe("The share of seeds it must hold on, a fraction in (0, 1], rounded up to whole seeds: 0.8 of 20 seeds is 16."),
      })
      .prefault({})
      .describe("For `meshsim verify --seeds N`: on how many of the seeds this expectation must hold. Default every seed; lower it only for a claim near a sharp boundary, where some seeds land on the other side. `meshsim run` ignores it: a single run passes or fails on its own."),
  })
  .superRefine((e, ctx) => checkExpectationShape(e, ctx));

function checkExpectationShape(e: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const kinds = EXPECT_KINDS.filter((k) => e[k] !== undefined);
  const bounds = BOUNDS.filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    const message = kinds.length === 0 ? "an expectation needs something to check" : `an expectation checks one thing; this one has ${kinds.join(" and ")}`;
    ctx.addIssue({ code: "custom", message, params: { expected: "one of metric, reached, invariant, failover" } });
    return;
  }
  if (bounds.length > 1) ctx.addIssue({ code: "custom", path: [bounds[1] as string], message: `give one bound, not ${bounds.join(" and ")}` });
  const kind = kinds[0];
  if (e["metric"] === "latencyAbove" && e["threshold"] === undefined) {
    ctx.addIssue({ code: "custom", path: ["threshold"], message: "latencyAbove needs a threshold: the latency a request must exceed to count", params: { expected: "a duration such as 50ms" } });
  }
  if (e["threshold"] !== undefined && e["metric"] !== "latencyAbove") {
    ctx.addIssue({ code: "custom", path: ["threshold"], message: `threshold applies only to metric: latencyAbove${typeof e["metric"] === "string" ? `, not ${e["metric"]}` : ""}` });
  }
  if (kind === "metric" && bounds.length === 0) {
    ctx.addIssue({ code: "custom", message: "a metric expectation needs a bound", params: { expected: BOUNDS.join(", ") } });
  }
  if ((kind === "reached" || kind === "invariant") && e["allowEmpty"] === true) {
    ctx.addIssue({ code: "custom", path: ["allowEmpty"], message: `allowEmpty applies only to metric and failover expectations (a ${kind} expectation always has something to count)` });
  }
  if (kind !== "metric") {
    const extra = (["where", "window"] as const).find((k) => e[k] !== undefined && !(k === "where" && Object.keys(e[k] as object).length === 0));
    if (extra !== undefined) ctx.addIssue({ code: "custom", path: [extra], message: `${extra} applies only to metric expectations` });
  }
  if (kind === "canary") {
    const c = e["canary"] as Record<string, unknown>;
    const verdicts = ["promoted", "rolledBack"].filter((k) => c[k] !== undefined);
    if (verdicts.length !== 1) ctx.addIssue({ code: "custom", path: ["canary"], message: "a canary expectation says one verdict", params: { expected: "promoted: true|false or rolledBack: true|false" } });
    if ((c["within"] !== undefined || c["atLeast"] !== undefined) && verdicts.length === 1 && c[verdicts[0] as string] === false) {
      ctx.addIssue({ code: "custom", path: ["canary", c["within"] !== undefined ? "within" : "atLeast"], message: "a time bound needs the verdict to be true (it says when it happened)" });
    }
  }
  if ((kind === "invariant" || kind === "failover" || kind === "canary") && bounds.length > 0) {
    ctx.addIssue({ code: "custom", path: [bounds[0] as string], message: `${kind} expectations take no bound` });
  }
}

const report = z.strictObject({
  timeline: periodSchema().prefault("1s").describe("Bucket width of time series."),
  charts: z.array(z.enum(CHARTS)).prefault(["rps", "successRate", "latency", "retries"]).describe("Charts in the report."),
});

export const ScenarioSchema = z
  .strictObject({
    name: slug("the scenario name").describe("Scenario name (a slug)."),
    description: z.string().prefault("").describe("What this scenario shows, in a sentence or two."),
    seed: z.union([z.int(), z.string().min(1)], { error: "expected a whole number or a string" }).describe("Seed of every random stream; `--seed` overrides."),
    duration: periodSchema().describe("Simulated time."),
    warmup: durationSchema().prefault("0s").describe("Excluded from expectation and report windows unless a window names it."),
    params: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()]))
      .prefault({})
      .describe("Values referenced as `${name}` anywhere below; `--set name=value` overrides."),
    clusters: z.array(cluster).min(1).describe("The clusters and their Kubernetes objects."),
    mesh: mesh.prefault({}).describe("What `linkerd install` settles."),
    dns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).describe("The global name clients call, e.g. `auth.global` (`to: http://auth.global/verify`)."),
          ttl: durationSchema().prefault("60s").describe("How long clients cache an answer."),
          records: z
            .array(
              z.strictObject({
                cluster: z.string().min(1).describe("Region (cluster) this record points at."),
                service: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: "expected namespace/name of a Service" }).describe("`namespace/name` of the regional Service behind the record."),
              }),
            )
            .min(1)
            .describe("Failover records in priority order: the first healthy one is served."),
          healthCheck: z
            .strictObject({
              interval: periodSchema().prefault("10s").describe("Time between health checks."),
              failureThreshold: z.int().min(1).prefault(3).describe("Consecutive failed checks that mark a record unhealthy."),
            })
            .prefault({})
            .describe("The DNS provider's health checker: a record is healthy while its region answers and its Service has a ready endpoint."),
        }),
      )
      .prefault([])
      .describe("DNS failover records: the baseline the mesh is compared with (clients resolve a global name to one region)."),
    links: z
      .array(
        z.strictObject({
          from: z.string().min(1).describe("The cluster that mirrors (where `linkerd multicluster link` output is applied)."),
          to: z.string().min(1).describe("The cluster whose exported Services are mirrored, through its gateway."),
          probePeriod: periodSchema().prefault("3s").describe("Gateway probe period (`mirror.linkerd.io/probe-period`)."),
          clusterName: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).optional().describe("`--cluster-name` given to `linkerd multicluster link`: mirrors are named `<svc>-<clusterName>`. Default: `to`."),
        }),
      )
      .prefault([])
      .describe("Multicluster links: what `linkerd --context=<to> multicluster link | kubectl --context=<from> apply` creates."),
    network: network.prefault({}).describe("Network latencies."),
    behavior: z.array(behavior).prefault([]).describe("What the apps do; pods no entry selects use the defaults."),
    traffic: z.array(traffic).prefault([]).describe("Load generators."),
    faults: z.array(fault).prefault([]).describe("Faults: `{at, until?, <kind>: {...}}`."),
    changes: z
      .array(change)
      .prefault([])
      .describe(
        "Configuration changes on the timeline, `{at, cluster?, <kind>: {...}}` with one kind: what an operator or a pipeline does to live objects (`kubectl apply`, `annotate`, `label`, `patch`, `delete`, `rollout restart`, `set image`). Kept apart from `faults:` because configuration is not a fault: nothing heals it, and each change stays until a later one changes the object again. Each goes through the simulated API server and reaches what reads it through the same chain, with the same delays, as the objects the run starts with: a TrafficSplit through the SMI adaptor (`watchDelay` + `smiAdaptorDelay`) and then the destination controller's push (`propagationDelay`); a Service, ServiceProfile, HTTPRoute or GRPCRoute (its annotations included) through the destination and policy controllers' watch (`watchDelay`) and push; a Namespace's `linkerd.io/inject` when pods are next created; a Deployment, StatefulSet or DaemonSet through the workload controller's watch, which scales it when `replicas` changed and rolls out a new pod template as its strategy says (maxSurge and maxUnavailable, 25 % each for a Deployment; readiness-gated; replaced pods leave their Endpoints and end after `terminationGracePeriodSeconds`). The scenario is refused when a change names an object that does not exist then, would be refused by the API server, or changes what the simulation cannot change while it runs (a Service's ports, a Link, a running Pod); changes to kinds the simulation never acts on are listed as not simulated. Changes at one instant are applied in the order written, after the faults of that instant.",
      ),
    expect: z.array(expectation).prefault([]).describe("Assertions checked after the run."),
    report: report.prefault({}).describe("Report settings."),
  })
  .superRefine((s, ctx) => {
    if (s.duration === 0) ctx.addIssue({ code: "custom", path: ["duration"], message: "duration must be longer than 0s" });
    if (s.warmup >= s.duration && s.duration > 0) ctx.addIssue({ code: "custom", path: ["warmup"], message: "warmup must be shorter than duration" });
    if (s.report.timeline === 0) ctx.addIssue({ code: "custom", path: ["report", "timeline"], message: "timeline must be longer than 0s" });
  });

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ParsedScenario = z.output<typeof ScenarioSchema>;
export type ParsedCluster = ParsedScenario["clusters"][number];
export type ParsedBehavior = ParsedScenario["behavior"][number];
export type ParsedTraffic = ParsedScenario["traffic"][number];
export type ParsedFault = ParsedScenario["faults"][number];
export type ParsedChange = ParsedScenario["changes"][number];
export type ParsedExpectation = ParsedScenario["expect"][number];
export type ServiceShorthand = ParsedCluster["services"][number];

/** The scenario format as JSON Schema (draft 2020-12), for editors; describes what users write. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScenarioSchema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return { ...schema, title: "meshsim scenario" };
}

// ── Introspection, for "did you mean" and the generated format documentation ──

/** The parts of a zod definition this file reads. */
export interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  defaultValue?: unknown;
}

export function schemaDef(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

const WRAPPERS: ReadonlySet<string> = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);

/** The schemas a value may actually be checked against: wrappers and transforms peeled, unions split. */
export function unwrapSchema(schema: z.ZodType): z.ZodType[] {
  const def = schemaDef(schema);
  if (WRAPPERS.has(def.type) && def.innerType !== undefined) return unwrapSchema(def.innerType);
  if (def.type === "pipe" && def.in !== undefined) return unwrapSchema(def.in);
  if (def.type === "union" && def.options !== undefined) return def.options.flatMap(unwrapSchema);
  return [schema];
}

function childSchemas(schema: z.ZodType, segment: string | number): z.ZodType[] {
  return unwrapSchema(schema).flatMap((s) => {
    const def = schemaDef(s);
    if (def.type === "object") return def.shape?.[String(segment)] ?? [];
    if (def.type === "array" && typeof segment === "number") return def.element ?? [];
    if (def.type === "tuple" && typeof segment === "number") return def.items?.[segment] ?? [];
    if (def.type === "record") return def.valueType ?? [];
    return [];
  });
}

/** The keys a strict mapping at `path` accepts (empty when `path` is not a strict mapping). */
export function keysAllowedAt(path: ReadonlyArray<string | number>, root: z.ZodType = ScenarioSchema): string[] {
  let here: z.ZodType[] = [root];
  for (const segment of path) here = here.flatMap((s) => childSchemas(s, segment));
  const keys = here.flatMap(unwrapSchema).flatMap((s) => {
    const def = schemaDef(s);
    return def.type === "object" && def.shape !== undefined ? Object.keys(def.shape) : [];
  });
  return [...new Set(keys)];
}
