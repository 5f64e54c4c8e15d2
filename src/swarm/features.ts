// Swarm testing's option swarming (TigerBeetle's VOPR, Groce et al.'s "swarm testing"): each seed
// switches a random subset of the generator's features on, so some cases pile many features
// together and others leave most out, which reaches interactions a fixed mix drowns. The switches
// are drawn from their own stream; what a scenario actually contains is read back from the
// scenario itself (`featuresOf`), so coverage counts what was generated, not what was asked for.

import { Chooser } from "./choose.js";

/** Generator switches and the probability each is on for a seed. */
export const SWITCHES = {
  multicluster: 0.45,
  reverseLink: 0.3,
  remoteTraffic: 0.3,
  statefulSet: 0.35,
  shorthand: 0.2,
  unmeshed: 0.2,
  readinessProbes: 0.45,
  secondNamespace: 0.3,
  serviceProfile: 0.5,
  responseClasses: 0.3,
  httpRoute: 0.5,
  policyGroupRoute: 0.3,
  grpc: 0.35,
  serviceAnnotations: 0.2,
  invalidAnnotations: 0.1,
  canary: 0.35,
  failover: 0.35,
  successRateRamp: 0.35,
  dns: 0.15,
  closedLoop: 0.3,
  rateSchedule: 0.3,
  requestMix: 0.45,
  headers: 0.3,
  appRoutes: 0.55,
  appErrors: 0.6,
  parallelCalls: 0.3,
  faults: 0.85,
  changes: 0.4,
  identityFaults: 0.2,
  meshTuning: 0.35,
  networkTuning: 0.35,
  warmup: 0.2,
} as const;

export type Switch = keyof typeof SWITCHES;
export type Switches = ReadonlySet<Switch>;

/** The switches that are on for this seed. */
export function swarmSwitches(seed: number): Switches {
  const c = new Chooser(seed, "features");
  const on = new Set<Switch>();
  for (const [name, p] of Object.entries(SWITCHES) as Array<[Switch, number]>) if (c.chance(p)) on.add(name);
  return on;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const objects = (v: unknown): Obj[] => list(v).filter(isObj);

function objectFeatures(o: Obj, tags: Set<string>): void {
  const kind = String(o["kind"]);
  const md = isObj(o["metadata"]) ? o["metadata"] : {};
  const annotations = isObj(md["annotations"]) ? md["annotations"] : {};
  const labels = isObj(md["labels"]) ? md["labels"] : {};
  const spec = isObj(o["spec"]) ? o["spec"] : {};
  if (kind === "Deployment" || kind === "StatefulSet") tags.add(`workload:${kind}`);
  if (kind === "ServiceProfile") {
    tags.add("policy:ServiceProfile");
    if (spec["retryBudget"] !== undefined) tags.add("policy:retryBudget");
    for (const r of objects(spec["routes"])) {
      if (r["isRetryable"] === true) tags.add("policy:isRetryable");
      if (r["timeout"] !== undefined) tags.add("policy:profileTimeout");
      if (r["responseClasses"] !== undefined) tags.add("policy:responseClasses");
    }
  }
  if (kind === "HTTPRoute" || kind === "GRPCRoute") {
    tags.add(`policy:${kind}`);
    if (String(o["apiVersion"]).startsWith("policy.linkerd.io")) tags.add("policy:policyGroupRoute");
    if (objects(spec["rules"]).some((r) => list(r["backendRefs"]).length > 0)) tags.add("policy:routeBackends");
  }
  for (const key of Object.keys(annotations)) {
    if (key.startsWith("retry.linkerd.io/")) tags.add(`annotation:${kind === "Service" ? "service-" : ""}${key.slice("retry.linkerd.io/".length)}`);
    if (key.startsWith("timeout.linkerd.io/")) tags.add(`annotation:timeout-${key.slice("timeout.linkerd.io/".length)}`);
  }
  if (kind === "TrafficSplit") tags.add(labels["failover.linkerd.io/controlled-by"] === "linkerd-failover" ? "split:failover" : "split:canary");
  if (kind === "Service" && labels["mirror.linkerd.io/exported"] !== undefined) tags.add(`multicluster:exported-${String(labels["mirror.linkerd.io/exported"])}`);
}

/** Feature tags present in a scenario (plain data, as generated), sorted. */
export function featuresOf(scenario: Obj): string[] {
  const tags = new Set<string>();
  const clusters = objects(scenario["clusters"]);
  tags.add(`clusters:${clusters.length}`);
  for (const c of clusters) {
    for (const o of objects(c["objects"])) objectFeatures(o, tags);
    if (list(c["services"]).length > 0) tags.add("topology:services-shorthand");
    if (c["inject"] === true) tags.add("topology:cluster-inject");
  }
  if (list(scenario["links"]).length > 0) tags.add("multicluster:links");
  if (list(scenario["dns"]).length > 0) tags.add("dns");
  for (const b of objects(scenario["behavior"])) {
    if (list(b["routes"]).length > 0) tags.add("app:routes");
    if (list(b["calls"]).length > 0 || objects(b["routes"]).some((r) => list(r["calls"]).length > 0)) tags.add("app:calls");
    if (b["callMode"] === "parallel") tags.add("app:parallel-calls");
    const errors = [b["errors"], ...objects(b["routes"]).map((r) => r["errors"])].filter(isObj);
    if (errors.some((e) => e["grpcStatus"] !== undefined)) tags.add("app:grpc-status");
    if (errors.some((e) => typeof e["rate"] === "number" && e["rate"] > 0)) tags.add("app:errors");
    if (objects(b["routes"]).some((r) => r["sideEffect"] === true)) tags.add("app:side-effect");
  }
  for (const t of objects(scenario["traffic"])) {
    const arrivals = t["arrivals"];
    tags.add(`traffic:${isObj(arrivals) ? "closedLoop" : String(arrivals ?? "poisson")}`);
    if (Array.isArray(t["rate"])) tags.add("traffic:schedule");
    if (t["protocol"] === "grpc") tags.add("traffic:grpc");
    if (list(t["requests"]).length > 1) tags.add("traffic:mix");
  }
  const faults = objects(scenario["faults"]);
  for (const f of faults) {
    const kind = Object.keys(f).find((k) => k !== "at" && k !== "until");
    if (kind !== undefined) tags.add(`fault:${kind}`);
  }
  if (overlapping(faults)) tags.add("fault:overlapping");
  for (const c of objects(scenario["changes"])) {
    const kind = Object.keys(c).find((k) => k !== "at" && k !== "cluster");
    if (kind !== undefined) tags.add(`change:${kind}`);
  }
  const mesh = isObj(scenario["mesh"]) ? scenario["mesh"] : {};
  if (isObj(mesh["failover"]) && mesh["failover"]["mode"] === "success-rate-ramp") tags.add("mesh:success-rate-ramp");
  return [...tags].sort();
}

/** Whether two fault windows overlap (a fault without `until` lasts to the end). */
function overlapping(faults: Obj[]): boolean {
  const ms = (v: unknown): number => (typeof v === "string" && v.endsWith("ms") ? Number(v.slice(0, -2)) : Number.POSITIVE_INFINITY);
  const windows = faults.map((f) => [ms(f["at"]), ms(f["until"])] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return windows.some((w, i) => i > 0 && (windows[i - 1] as readonly [number, number])[1] > w[0]);
}
