// A validated scenario (schema output: defaults filled, durations in µs, distributions parsed)
// turned into the `WorldSpec` the simulator is built from, and back into plain data for
// `meshsim explain`: the same sections a user writes, every default filled in, durations and
// rates as text again. Defaults that depend on other values are settled here: a cluster's trust
// anchor is the mesh's, traffic comes from the first cluster, request paths come from `to`, an
// expectation's window is [warmup, duration] and a `reached:` mark must be hit at least once.

import { describeObject, type K8sObject } from "../k8s/object.js";
import { lowerCaseHeaders, parseHttpUrl } from "../mesh/http.js";
import type { ArrivalSpec, BehaviorSpec, Bound, CallSpec, ChangeSpec, ErrorSpec, ExpectSpec, FaultAction, FaultSpec, RatePoint, Selector, TrafficRequest, TrafficSpec, WorldSpec } from "../mesh/spec.js";
import { GRPC_CODE_NAMES, grpcCodeFromName } from "../policy/classify.js";
import { formatDurationUs } from "../sim/time.js";
import { FAULT_KINDS, type ParsedBehavior, type ParsedExpectation, type ParsedFault, type ParsedScenario, type ParsedTraffic } from "./schema.js";
import { formatDistribution, formatRate } from "./values.js";

type SelectorInput = { cluster?: string | undefined; namespace?: string | undefined; deployment?: string | undefined; image?: string | undefined };

/** Leave out what was not written, so absent stays absent under exactOptionalPropertyTypes. */
export function toSelector(s: SelectorInput): Selector {
  const out: Selector = {};
  if (s.cluster !== undefined) out.cluster = s.cluster;
  if (s.namespace !== undefined) out.namespace = s.namespace;
  if (s.deployment !== undefined) out.deployment = s.deployment;
  if (s.image !== undefined) out.image = s.image;
  return out;
}

export function normalizeScenario(s: ParsedScenario, objects: K8sObject[][], opts: { seed?: string | undefined } = {}): WorldSpec {
  return {
    name: s.name,
    description: s.description.trim(),
    seed: opts.seed ?? String(s.seed),
    durationUs: s.duration,
    warmupUs: s.warmup,
    clusters: s.clusters.map((c, i) => ({ name: c.name, objects: objects[i] ?? [], trustAnchor: c.trustAnchor ?? s.mesh.trustAnchor, domain: c.domain, nodes: c.nodes })),
    links: s.links.map((l) => ({ from: l.from, to: l.to, probePeriodUs: l.probePeriod, clusterName: l.clusterName ?? l.to })),
    dns: s.dns.map((d) => ({
      name: d.name,
      ttlUs: d.ttl,
      records: d.records.map((r) => {
        const [namespace, service] = r.service.split("/") as [string, string];
        return { cluster: r.cluster, namespace, service };
      }),
      healthCheck: { intervalUs: d.healthCheck.interval, failureThreshold: d.healthCheck.failureThreshold },
    })),
    mesh: {
      trustAnchor: s.mesh.trustAnchor,
      proxyLatency: s.mesh.proxy.latency,
      controlPlane: {
        endpointsDelay: s.mesh.controlPlane.endpointsDelay,
        watchDelay: s.mesh.controlPlane.watchDelay,
        smiAdaptorDelay: s.mesh.controlPlane.smiAdaptorDelay,
        propagationDelay: s.mesh.controlPlane.propagationDelay,
      },
      failover: {
        mode: s.mesh.failover.mode,
        reconcileDelay: s.mesh.failover.reconcileDelay,
        successRate: {
          windowUs: s.mesh.failover.successRate.window,
          threshold: s.mesh.failover.successRate.threshold,
          step: s.mesh.failover.successRate.step,
          intervalUs: s.mesh.failover.successRate.interval,
          minSamples: s.mesh.failover.successRate.minSamples,
        },
      },
      identity: { issuerValidityUs: s.mesh.identity.issuerValidity, leafLifetimeUs: s.mesh.identity.leafLifetime },
      gateway: { concurrency: s.mesh.gateway.concurrency },
    },
    network: { podToPod: s.network.podToPod, between: s.network.between.map((b) => ({ clusters: b.clusters, latency: b.latency })) },
    behavior: s.behavior.map(normalizeBehavior),
    traffic: s.traffic.map((t) => normalizeTraffic(t, s.clusters[0]?.name ?? "")),
    faults: s.faults.map(normalizeFault),
    expect: s.expect.flatMap((e) => normalizeExpectation(e, [s.warmup, s.duration])),
    report: { timelineUs: s.report.timeline, charts: [...s.report.charts] },
  };
}

function normalizeBehavior(b: ParsedBehavior): BehaviorSpec {
  return {
    select: toSelector(b.select),
    concurrency: b.concurrency,
    queueLimit: b.queueLimit,
    latency: b.latency,
    routes: b.routes.map((r) => {
      const match: { method?: string; path?: string } = {};
      if (r.match.method !== undefined) match.method = r.match.method;
      if (r.match.path !== undefined) match.path = r.match.path;
      return {
        match,
        sideEffect: r.sideEffect,
        ...(r.latency !== undefined ? { latency: r.latency } : {}),
        ...(r.errors !== undefined ? { errors: normalizeErrors(r.errors) } : {}),
        ...(r.calls !== undefined ? { calls: r.calls.map(normalizeCall) } : {}),
      };
    }),
    errors: normalizeErrors(b.errors),
    calls: b.calls.map(normalizeCall),
    callMode: b.callMode,
  };
}

type ParsedErrors = ParsedBehavior["errors"];
type ParsedCall = ParsedBehavior["calls"][number];

/** gRPC answers its errors with HTTP 200, so that is the status when a grpc-status is given. */
function normalizeErrors(e: ParsedErrors): ErrorSpec {
  const grpc = e.grpcStatus === undefined ? undefined : typeof e.grpcStatus === "number" || e.grpcStatus === "none" ? e.grpcStatus : grpcCodeFromName(e.grpcStatus);
  const status = e.status ?? (grpc === undefined ? 500 : 200);
  return grpc === undefined ? { rate: e.rate, status } : { rate: e.rate, status, grpcStatus: grpc, grpcStatusIn: e.grpcStatusIn };
}

/** A call; protocol, headers and forwarded headers only where they differ from the defaults (`explain` shows them all). */
function normalizeCall(c: ParsedCall): CallSpec {
  const headers = lowerCaseHeaders(c.headers);
  const forward = Array.isArray(c.forwardHeaders) ? c.forwardHeaders.map((h) => h.toLowerCase()) : c.forwardHeaders;
  return {
    to: c.to,
    method: c.method,
    required: c.required,
    ...(c.protocol !== "auto" ? { protocol: c.protocol } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(forward !== false ? { forwardHeaders: forward } : {}),
    ...(c.async ? { afterResponse: true } : {}),
    ...(c.probability < 1 ? { probability: c.probability } : {}),
  };
}

/** `path` with `query` appended, URL-encoded as a form would be. */
function withQuery(path: string, query: Record<string, string> | undefined): string {
  const pairs = Object.entries(query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (pairs.length === 0) return path;
  return `${path}${path.includes("?") ? "&" : "?"}${pairs.join("&")}`;
}

function normalizeTraffic(t: ParsedTraffic, firstCluster: string): TrafficSpec {
  const arrivals: ArrivalSpec =
    typeof t.arrivals === "string" ? { kind: t.arrivals } : { kind: "closed-loop", users: t.arrivals.closedLoop.users, thinkTime: t.arrivals.closedLoop.thinkTime };
  const defaultPath = parseHttpUrl(t.to)?.path ?? "/";
  // gRPC calls are POSTs (GRPCRoute matches nothing else); an explicit method stays as written.
  const defaultMethod = t.protocol === "grpc" ? "POST" : "GET";
  const requests: TrafficRequest[] = (t.requests ?? [{ weight: 1, bodyBytes: 0, headers: {} }]).map((r) => {
    const headers = lowerCaseHeaders(r.headers);
    return {
      method: ("method" in r ? r.method : undefined) ?? defaultMethod,
      path: withQuery(("path" in r ? r.path : undefined) ?? defaultPath, "query" in r ? r.query : undefined),
      weight: r.weight,
      bodyBytes: r.bodyBytes,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
  });
  return {
    name: t.name,
    from: { cluster: t.from.cluster ?? firstCluster, namespace: t.from.namespace, deployment: t.from.deployment },
    to: t.to,
    arrivals,
    rate: t.rate === undefined ? [] : rateSchedule(t.rate),
    ...(t.protocol !== "auto" ? { protocol: t.protocol } : {}),
    requests,
  };
}

type RateInput = NonNullable<ParsedTraffic["rate"]>;

/** Steps and ramps as `RatePoint`s starting at 0 (silence until a schedule's first point). */
export function rateSchedule(rate: RateInput): RatePoint[] {
  if (typeof rate === "number") return [{ atUs: 0, rateRps: rate }];
  const out: RatePoint[] = [];
  let level = 0;
  if ((rate[0]?.at ?? 0) > 0) out.push({ atUs: 0, rateRps: 0 });
  for (const p of rate) {
    const start = p.rate ?? level;
    const point: RatePoint = { atUs: p.at, rateRps: start };
    if (p.rampTo !== undefined && p.over !== undefined) {
      point.rampToRps = p.rampTo;
      point.overUs = p.over;
    }
    out.push(point);
    level = point.rampToRps ?? start;
  }
  return out;
}

function normalizeFault(f: ParsedFault): FaultSpec {
  const out: FaultSpec = { atUs: f.at, action: faultAction(f) };
  if (f.until !== undefined) out.untilUs = f.until;
  return out;
}

/** The one action a validated fault carries (the schema refuses zero or several). */
function faultAction(f: ParsedFault): FaultAction {
  if (f.killPods) return { kind: "killPods", select: toSelector(f.killPods.select), count: f.killPods.count };
  if (f.scale) return { kind: "scale", select: toSelector(f.scale.select), replicas: f.scale.replicas };
  if (f.degrade) {
    const d = f.degrade;
    return {
      kind: "degrade",
      select: toSelector(d.select),
      ...(d.errorRate !== undefined ? { errorRate: d.errorRate } : {}),
      ...(d.latencyFactor !== undefined ? { latencyFactor: d.latencyFactor } : {}),
      ...(d.capacityFactor !== undefined ? { capacityFactor: d.capacityFactor } : {}),
    };
  }
  if (f.readinessFail) return { kind: "readinessFail", select: toSelector(f.readinessFail.select) };
  if (f.latency) return { kind: "latency", between: f.latency.between, addUs: f.latency.add };
  if (f.partition) return { kind: "partition", between: f.partition.between };
  if (f.controlPlaneDown) return { kind: "controlPlaneDown", cluster: f.controlPlaneDown.cluster };
  if (f.clusterLoss) return { kind: "clusterLoss", cluster: f.clusterLoss.cluster };
  if (f.restartPods) return { kind: "restartPods", select: toSelector(f.restartPods.select) };
  if (f.issuerExpire) return { kind: "issuerExpire", cluster: f.issuerExpire.cluster };
  if (f.issuerRotate) return { kind: "issuerRotate", cluster: f.issuerRotate.cluster, ...(f.issuerRotate.anchor !== undefined ? { anchor: f.issuerRotate.anchor } : {}) };
  if (f.anchorBundle) return { kind: "anchorBundle", cluster: f.anchorBundle.cluster, anchor: f.anchorBundle.anchor };
  if (f.anchorIssuer) return { kind: "anchorIssuer", cluster: f.anchorIssuer.cluster, anchor: f.anchorIssuer.anchor };
  if (f.anchorDrop) return { kind: "anchorDrop", cluster: f.anchorDrop.cluster, anchor: f.anchorDrop.anchor };
  if (f.anchorReplace) return { kind: "anchorReplace", cluster: f.anchorReplace.cluster, anchor: f.anchorReplace.anchor };
  throw new Error(`a fault without a kind passed validation (kinds: ${FAULT_KINDS.join(", ")})`);
}

/** One schema expectation as the world's `ExpectSpec`; `allowEmpty` and `seeds` are carried only when they differ from the default. */
function normalizeExpectation(e: ParsedExpectation, defaultWindow: [number, number]): ExpectSpec[] {
  // Carried only when lower than every seed, like allowEmpty only when set.
  const seeds = e.seeds.atLeast < 1 ? { seeds: { atLeast: e.seeds.atLeast } } : {};
  return normalizeCheck(e, defaultWindow).map((x) => ({ ...x, ...seeds }));
}

function normalizeCheck(e: ParsedExpectation, defaultWindow: [number, number]): ExpectSpec[] {
  if (e.invariant !== undefined) return [{ name: e.name, kind: "invariant", invariant: e.invariant }];
  if (e.failover !== undefined) {
    const f = e.failover;
    return [{
      name: e.name,
      kind: "failover",
      trafficSplit: f.trafficSplit,
      cluster: f.cluster,
      afterUs: f.after,
      at: f.at,
      ...(f.within !== undefined ? { withinUs: f.within } : {}),
      ...(f.atLeast !== undefined ? { atLeastUs: f.atLeast } : {}),
      ...(f.never === true ? { never: true } : {}),
      ...(e.allowEmpty ? { allowEmpty: true } : {}),
    }];
  }
  if (e.canary !== undefined) {
    const c = e.canary;
    const verdict = c.promoted !== undefined ? "promoted" : "rolledBack";
    return [{
      name: e.name,
      kind: "canary",
      ...(c.name !== undefined ? { canary: c.name } : {}),
      ...(c.cluster !== undefined ? { cluster: c.cluster } : {}),
      verdict,
      happened: (verdict === "promoted" ? c.promoted : c.rolledBack) === true,
      afterUs: c.after,
      ...(c.within !== undefined ? { withinUs: c.within } : {}),
      ...(c.atLeast !== undefined ? { atLeastUs: c.atLeast } : {}),
    }];
  }
  if (e.reached !== undefined) return [{ name: e.name, kind: "reached", mark: e.reached, bound: boundOf(e) ?? { atLeast: 1 } }];
  if (e.metric !== undefined) {
    const bound = boundOf(e) as Bound;
    const where = Object.fromEntries(Object.entries(e.where).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return [{ name: e.name, kind: "metric", metric: e.metric, where, window: e.window ?? defaultWindow, bound, ...(e.threshold !== undefined ? { thresholdUs: e.threshold } : {}), ...(e.allowEmpty ? { allowEmpty: true } : {}) }];
  }
  return [];
}

function boundOf(e: ParsedExpectation): Bound | undefined {
  if (e.equals !== undefined) return { equals: e.equals };
  if (e.atMost !== undefined) return { atMost: e.atMost };
  if (e.atLeast !== undefined) return { atLeast: e.atLeast };
  if (e.between !== undefined) return { between: e.between };
  return undefined;
}

// ── explain ──

/** What `explain` shows besides the world: the params in effect and sections kept raw for now. */
export interface ExplainExtras {
  params: Record<string, string | number | boolean>;

}

/** The normalised scenario as plain data in the scenario's own vocabulary, every default filled in. */
export function explainWorld(w: WorldSpec, extras: ExplainExtras): Record<string, unknown> {
  const d = formatDurationUs;
  return {
    name: w.name,
    description: w.description,
    seed: w.seed,
    duration: d(w.durationUs),
    warmup: d(w.warmupUs),
    params: extras.params,
    clusters: w.clusters.map((c) => ({ name: c.name, trustAnchor: c.trustAnchor, domain: c.domain, loaded: c.objects.map(objectLine) })),
    mesh: {
      trustAnchor: w.mesh.trustAnchor,
      proxy: { latency: formatDistribution(w.mesh.proxyLatency) },
      controlPlane: {
        endpointsDelay: formatDistribution(w.mesh.controlPlane.endpointsDelay),
        watchDelay: formatDistribution(w.mesh.controlPlane.watchDelay),
        smiAdaptorDelay: formatDistribution(w.mesh.controlPlane.smiAdaptorDelay),
        propagationDelay: formatDistribution(w.mesh.controlPlane.propagationDelay),
      },
      failover: {
        mode: w.mesh.failover.mode,
        reconcileDelay: formatDistribution(w.mesh.failover.reconcileDelay),
        successRate: {
          window: d(w.mesh.failover.successRate.windowUs),
          threshold: w.mesh.failover.successRate.threshold,
          step: w.mesh.failover.successRate.step,
          interval: d(w.mesh.failover.successRate.intervalUs),
          minSamples: w.mesh.failover.successRate.minSamples,
        },
      },
      identity: { issuerValidity: d(w.mesh.identity.issuerValidityUs), leafLifetime: d(w.mesh.identity.leafLifetimeUs) },
      gateway: { concurrency: w.mesh.gateway.concurrency },
    },
    links: w.links.map((l) => ({ from: l.from, to: l.to, probePeriod: d(l.probePeriodUs), clusterName: l.clusterName })),
    dns: w.dns.map((x) => ({
      name: x.name,
      ttl: d(x.ttlUs),
      records: x.records.map((r) => ({ cluster: r.cluster, service: `${r.namespace}/${r.service}` })),
      healthCheck: { interval: d(x.healthCheck.intervalUs), failureThreshold: x.healthCheck.failureThreshold },
    })),
    network: {
      podToPod: formatDistribution(w.network.podToPod),
      between: w.network.between.map((b) => ({ clusters: b.clusters, latency: formatDistribution(b.latency) })),
    },
    behavior: w.behavior.map(explainBehavior),
    traffic: w.traffic.map(explainTraffic),
    faults: w.faults.map(explainFault),
    changes: (w.changes ?? []).map(explainChange),
    expect: w.expect.map(explainExpectation),
    report: { timeline: d(w.report.timelineUs), charts: w.report.charts },
  };
}

function objectLine(o: K8sObject): string {
  return `${describeObject(o)} (${o.source.file}:${o.source.line}:${o.source.col})`;
}

function explainBehavior(b: BehaviorSpec): Record<string, unknown> {
  return {
    select: b.select,
    concurrency: b.concurrency,
    queueLimit: b.queueLimit,
    latency: formatDistribution(b.latency),
    routes: b.routes.map((r) => ({
      match: r.match,
      ...(r.latency !== undefined ? { latency: formatDistribution(r.latency) } : {}),
      sideEffect: r.sideEffect,
      ...(r.errors !== undefined ? { errors: explainErrors(r.errors) } : {}),
      ...(r.calls !== undefined ? { calls: r.calls.map(explainCall) } : {}),
    })),
    errors: explainErrors(b.errors),
    calls: b.calls.map(explainCall),
    callMode: b.callMode,
  };
}

/** A call with every default filled in. */
function explainCall(c: CallSpec): Record<string, unknown> {
  return { to: c.to, method: c.method, required: c.required, protocol: c.protocol ?? "auto", headers: c.headers ?? {}, forwardHeaders: c.forwardHeaders ?? false, async: c.afterResponse ?? false, probability: c.probability ?? 1 };
}

/** Errors as a user writes them: a gRPC status by its name. */
function explainErrors(e: ErrorSpec): Record<string, unknown> {
  const g = e.grpcStatus;
  if (g === undefined) return { rate: e.rate, status: e.status };
  return { rate: e.rate, status: e.status, grpcStatus: g === "none" ? "none" : (GRPC_CODE_NAMES[g] ?? g), grpcStatusIn: e.grpcStatusIn ?? "headers" };
}

function explainTraffic(t: TrafficSpec): Record<string, unknown> {
  const arrivals =
    t.arrivals.kind === "closed-loop" ? { closedLoop: { users: t.arrivals.users, thinkTime: formatDistribution(t.arrivals.thinkTime) } } : t.arrivals.kind;
  const single = t.rate.length === 1 && t.rate[0]?.atUs === 0 && t.rate[0].rampToRps === undefined;
  const rate = single
    ? formatRate(t.rate[0]?.rateRps ?? 0)
    : t.rate.map((p) => ({
        at: formatDurationUs(p.atUs),
        rate: formatRate(p.rateRps),
        ...(p.rampToRps !== undefined ? { rampTo: formatRate(p.rampToRps), over: formatDurationUs(p.overUs ?? 0) } : {}),
      }));
  const requests = t.requests.map((r) => ({ ...r, headers: r.headers ?? {} }));
  return { name: t.name, from: t.from, to: t.to, arrivals, ...(t.rate.length > 0 ? { rate } : {}), protocol: t.protocol ?? "auto", requests };
}

function explainFault(f: FaultSpec): Record<string, unknown> {
  const { kind, ...rest } = f.action;
  const body: Record<string, unknown> = { ...rest };
  if ("addUs" in body) {
    body["add"] = formatDurationUs(body["addUs"] as number);
    delete body["addUs"];
  }
  return { at: formatDurationUs(f.atUs), ...(f.untilUs !== undefined ? { until: formatDurationUs(f.untilUs) } : {}), [kind]: body };
}

/** A change as written, its objects named with where each was loaded from, its namespace defaulted. */
function explainChange(c: ChangeSpec): Record<string, unknown> {
  const { kind, ...rest } = c.action;
  const body = c.action.kind === "apply" ? c.action.objects.map(objectLine) : rest;
  return { at: formatDurationUs(c.atUs), cluster: c.cluster, [kind]: body };
}

function explainExpectation(e: ExpectSpec): Record<string, unknown> {
  return { ...explainCheck(e), seeds: { atLeast: e.seeds?.atLeast ?? 1 } };
}

function explainCheck(e: ExpectSpec): Record<string, unknown> {
  switch (e.kind) {
    case "metric":
      return { name: e.name, metric: e.metric, ...(e.thresholdUs !== undefined ? { threshold: formatDurationUs(e.thresholdUs) } : {}), where: e.where, window: e.window.map(formatDurationUs), ...e.bound, ...(e.allowEmpty === true ? { allowEmpty: true } : {}) };
    case "reached":
      return { name: e.name, reached: e.mark, ...e.bound };
    case "invariant":
      return { name: e.name, invariant: e.invariant };
    case "canary":
      return {
        name: e.name,
        canary: {
          ...(e.canary === undefined ? {} : { name: e.canary }),
          ...(e.cluster === undefined ? {} : { cluster: e.cluster }),
          [e.verdict]: e.happened,
          after: formatDurationUs(e.afterUs),
          ...(e.withinUs === undefined ? {} : { within: formatDurationUs(e.withinUs) }),
          ...(e.atLeastUs === undefined ? {} : { atLeast: formatDurationUs(e.atLeastUs) }),
        },
      };
    case "failover":
      return {
        name: e.name,
        failover: {
          trafficSplit: e.trafficSplit,
          cluster: e.cluster,
          after: formatDurationUs(e.afterUs),
          at: e.at,
          ...(e.withinUs !== undefined ? { within: formatDurationUs(e.withinUs) } : {}),
          ...(e.atLeastUs !== undefined ? { atLeast: formatDurationUs(e.atLeastUs) } : {}),
          ...(e.never === true ? { never: true } : {}),
        },
        ...(e.allowEmpty === true ? { allowEmpty: true } : {}),
      };
  }
}
