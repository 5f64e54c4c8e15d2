// Shrinking a failing swarm case: try reductions of the scenario, coarse ones first (drop a
// cluster, every fault, a service with everything that names it, one fault, one traffic entry,
// a section, an object; halve the timeline, the rates, the replicas), then fine ones anywhere in
// the tree (delete a key or a list entry, halve a number, a duration or a rate). A reduction is
// kept when the predicate says the smaller scenario still fails the same way; shrinking ends
// when no reduction is kept in a whole pass (a local minimum) or the attempt budget runs out.

type Obj = Record<string, unknown>;
type Path = Array<string | number>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

export interface Reduction {
  /** What the reduction does, for the shrink log. */
  label: string;
  apply: (s: Obj) => Obj;
}

export interface ShrinkOptions {
  /** Predicate calls at most; default 2,000. */
  maxAttempts?: number;
  /** Asked before each attempt; false stops shrinking there (the CLI's wall-clock limit). Default: always go on. */
  keepGoing?: () => boolean;
}

export interface ShrinkResult {
  scenario: Obj;
  /** Predicate calls made. */
  attempts: number;
  /** Reductions kept, in order. */
  steps: string[];
  /** True when every reduction of the result was tried and none still failed. */
  minimal: boolean;
}

const clone = (s: Obj): Obj => structuredClone(s);

/** The first DNS label of a URL's host: `web` in `http://web.app.svc.cluster.local/`. */
function hostLabel(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  const m = /^http:\/\/([^/:.]+)/.exec(url);
  return m?.[1];
}

function clusterNames(s: Obj): string[] {
  const names = objects(s["clusters"]).map((c) => String(c["name"]));
  const linkNames = objects(s["links"]).map((l) => String(l["clusterName"] ?? l["to"]));
  return [...new Set([...names, ...linkNames])];
}

/** Whether a host label names service `name` or one of its mirrors. */
function namesService(label: string | undefined, name: string, clusters: readonly string[]): boolean {
  return label === name || clusters.some((c) => label === `${name}-${c}`);
}

function withoutCalls(b: Obj, drop: (call: Obj) => boolean): Obj {
  const out = { ...b };
  if (Array.isArray(out["calls"])) out["calls"] = objects(out["calls"]).filter((k) => !drop(k));
  if (Array.isArray(out["routes"])) {
    out["routes"] = objects(out["routes"]).map((r) => (Array.isArray(r["calls"]) ? { ...r, calls: objects(r["calls"]).filter((k) => !drop(k)) } : r));
  }
  return out;
}

function selects(sel: unknown, key: "deployment" | "cluster", value: string): boolean {
  return isObj(sel) && sel[key] === value;
}

/** The fault's action (the one key that is not `at` or `until`). */
function faultAction(f: Obj): Obj {
  const key = Object.keys(f).find((k) => k !== "at" && k !== "until");
  return key !== undefined && isObj(f[key]) ? f[key] : {};
}

/** Everything that names a service: its workload, Service, profile, routes, splits, behaviour, calls, traffic, faults, DNS. */
export function dropService(s: Obj, name: string): Obj {
  const out = clone(s);
  const clusters = clusterNames(s);
  const refersTo = (o: Obj): boolean => {
    const md = isObj(o["metadata"]) ? o["metadata"] : {};
    const spec = isObj(o["spec"]) ? o["spec"] : {};
    if (md["name"] === name && o["kind"] !== "Namespace") return true;
    if (o["kind"] === "ServiceProfile" && String(md["name"]).startsWith(`${name}.`)) return true;
    if (o["kind"] === "TrafficSplit") return spec["service"] === name || objects(spec["backends"]).some((b) => namesService(String(b["service"]), name, clusters));
    const refs = [...objects(spec["parentRefs"]), ...objects(spec["rules"]).flatMap((r) => objects(r["backendRefs"]))];
    return refs.some((r) => r["name"] === name);
  };
  out["clusters"] = objects(out["clusters"]).map((c) => ({
    ...c,
    ...(Array.isArray(c["objects"]) ? { objects: objects(c["objects"]).filter((o) => !refersTo(o)) } : {}),
    ...(Array.isArray(c["services"]) ? { services: objects(c["services"]).filter((x) => x["name"] !== name) } : {}),
  }));
  const callsIt = (k: Obj): boolean => namesService(hostLabel(k["to"]), name, clusters);
  out["behavior"] = objects(out["behavior"]).filter((b) => !selects(b["select"], "deployment", name)).map((b) => withoutCalls(b, callsIt));
  out["traffic"] = objects(out["traffic"]).filter((t) => !callsIt(t) && !selects(t["from"], "deployment", name));
  out["faults"] = objects(out["faults"]).filter((f) => !selects(faultAction(f)["select"], "deployment", name));
  out["dns"] = objects(out["dns"]).filter((d) => d["name"] !== `${name}.global`);
  return out;
}

/** A cluster and everything that names it. */
export function dropCluster(s: Obj, name: string): Obj {
  const out = clone(s);
  const pairHas = (p: unknown): boolean => Array.isArray(p) && p.includes(name);
  out["clusters"] = objects(out["clusters"]).filter((c) => c["name"] !== name);
  out["links"] = objects(out["links"]).filter((l) => l["from"] !== name && l["to"] !== name);
  out["faults"] = objects(out["faults"]).filter((f) => {
    const a = faultAction(f);
    return a["cluster"] !== name && !selects(a["select"], "cluster", name) && !pairHas(a["between"]);
  });
  if (isObj(out["network"]) && Array.isArray(out["network"]["between"])) {
    out["network"] = { ...out["network"], between: objects(out["network"]["between"]).filter((b) => !pairHas(b["clusters"])) };
  }
  out["dns"] = objects(out["dns"]).map((d) => ({ ...d, records: objects(d["records"]).filter((r) => r["cluster"] !== name) })).filter((d) => objects(d["records"]).length > 0);
  out["traffic"] = objects(out["traffic"]).filter((t) => !selects(t["from"], "cluster", name));
  out["behavior"] = objects(out["behavior"]).filter((b) => !selects(b["select"], "cluster", name));
  return out;
}

/** Workload names (Deployments, StatefulSets, shorthand services) of every cluster, each once. */
function workloadNames(s: Obj): string[] {
  const names = objects(s["clusters"]).flatMap((c) => [
    ...objects(c["objects"]).filter((o) => o["kind"] === "Deployment" || o["kind"] === "StatefulSet").map((o) => String((o["metadata"] as Obj)["name"])),
    ...objects(c["services"]).map((x) => String(x["name"])),
  ]);
  return [...new Set(names)];
}

const DURATION = /^(\d+)(us|ms|s|m|h)$/;
const RATE = /^(\d+(?:\.\d+)?)\/(s|m|h)$/;

/** A smaller value of the same kind, or undefined when there is none. */
function smaller(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? (v > 1 ? Math.floor(v / 2) : v === 1 ? 0 : undefined) : v > 0.01 ? Math.round((v / 2) * 1000) / 1000 : undefined;
  if (typeof v !== "string") return undefined;
  const d = DURATION.exec(v);
  if (d !== null) return Number(d[1]) > 0 ? `${Math.floor(Number(d[1]) / 2)}${d[2]}` : undefined;
  const r = RATE.exec(v);
  if (r !== null) return Number(r[1]) >= 1 ? `${Math.floor(Number(r[1]) / 2)}/${r[2]}` : undefined;
  return undefined;
}

/** Halve every instant of the scenario: duration, warmup, fault windows, schedule points. */
function halveTime(s: Obj): Obj {
  const out = clone(s);
  const half = (v: unknown): unknown => smaller(v) ?? v;
  for (const key of ["duration", "warmup"]) if (out[key] !== undefined) out[key] = half(out[key]);
  for (const f of objects(out["faults"])) for (const key of ["at", "until"]) if (f[key] !== undefined) f[key] = half(f[key]);
  for (const t of objects(out["traffic"])) for (const p of objects(t["rate"])) for (const key of ["at", "over"]) if (p[key] !== undefined) p[key] = half(p[key]);
  return out;
}

/** Halve every open-loop rate and closed-loop user count. */
function halveLoad(s: Obj): Obj {
  const out = clone(s);
  for (const t of objects(out["traffic"])) {
    if (typeof t["rate"] === "string") t["rate"] = smaller(t["rate"]) ?? t["rate"];
    for (const p of objects(t["rate"])) for (const key of ["rate", "rampTo"]) if (typeof p[key] === "string") p[key] = smaller(p[key]) ?? p[key];
    const loop = isObj(t["arrivals"]) ? t["arrivals"]["closedLoop"] : undefined;
    if (isObj(loop) && typeof loop["users"] === "number" && loop["users"] > 1) loop["users"] = Math.floor(loop["users"] / 2);
  }
  return out;
}

function at(s: Obj, path: Path): unknown {
  let here: unknown = s;
  for (const p of path) here = Array.isArray(here) ? here[p as number] : isObj(here) ? here[p as string] : undefined;
  return here;
}

function edit(s: Obj, path: Path, change: (parent: unknown, key: string | number) => void): Obj {
  const out = clone(s);
  const parent = at(out, path.slice(0, -1));
  change(parent, path[path.length - 1] as string | number);
  return out;
}

/** Every path in the tree, parents before children. */
function paths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

/** Reductions of `s`, coarse first. */
export function reductions(s: Obj): Reduction[] {
  const out: Reduction[] = [];
  const names = objects(s["clusters"]).map((c) => String(c["name"]));
  for (const name of names.slice(1).reverse()) out.push({ label: `drop cluster ${name}`, apply: (x) => dropCluster(x, name) });
  const listed = (key: string): number => objects(s[key]).length;
  if (listed("faults") > 1) out.push({ label: "drop every fault", apply: (x) => ({ ...clone(x), faults: [] }) });
  for (const name of workloadNames(s)) out.push({ label: `drop service ${name}`, apply: (x) => dropService(x, name) });
  for (const key of ["faults", "traffic", "dns", "links", "behavior"]) {
    for (let i = listed(key) - 1; i >= 0; i--) out.push({ label: `drop ${key}[${i}]`, apply: (x) => ({ ...clone(x), [key]: objects(x[key]).filter((_, j) => j !== i) }) });
  }
  for (const key of ["mesh", "network", "dns", "links", "warmup", "description", "report"]) {
    if (s[key] !== undefined) out.push({ label: `drop ${key}`, apply: (x) => Object.fromEntries(Object.entries(clone(x)).filter(([k]) => k !== key)) });
  }
  objects(s["clusters"]).forEach((c, ci) => {
    for (let i = objects(c["objects"]).length - 1; i >= 0; i--) out.push({ label: `drop clusters[${ci}].objects[${i}]`, apply: (x) => edit(x, ["clusters", ci, "objects", i], (p) => (p as unknown[]).splice(i, 1)) });
  });
  out.push({ label: "halve the timeline", apply: halveTime }, { label: "halve the load", apply: halveLoad });
  for (const path of paths(s)) {
    const key = path[path.length - 1] as string | number;
    const label = path.join(".");
    if (typeof key === "number") out.push({ label: `drop ${label}`, apply: (x) => edit(x, path, (p) => (p as unknown[]).splice(key, 1)) });
    else out.push({ label: `drop ${label}`, apply: (x) => edit(x, path, (p) => delete (p as Obj)[key]) });
    // The seed picks the random streams, not a size: halving it only trades one run for another.
    const less = label === "seed" ? undefined : smaller(at(s, path));
    if (less !== undefined) out.push({ label: `shrink ${label}`, apply: (x) => edit(x, path, (p) => ((p as Obj)[key as string] = less)) });
  }
  return out;
}

/**
 * Shrink `scenario` while `stillFails` holds. Tries reductions in order; after a kept one it goes
 * on from the same position in the new scenario's list, and sweeps again until a whole pass keeps
 * nothing.
 */
export function shrinkScenario(scenario: Obj, stillFails: (s: Obj) => boolean, options: ShrinkOptions = {}): ShrinkResult {
  const maxAttempts = options.maxAttempts ?? 2000;
  let current = clone(scenario);
  let attempts = 0;
  const steps: string[] = [];
  for (;;) {
    let kept = false;
    let list = reductions(current);
    for (let i = 0; i < list.length; i++) {
      if (attempts >= maxAttempts || options.keepGoing?.() === false) return { scenario: current, attempts, steps, minimal: false };
      const r = list[i] as Reduction;
      const candidate = r.apply(current);
      if (JSON.stringify(candidate) === JSON.stringify(current)) continue;
      attempts += 1;
      if (!stillFails(candidate)) continue;
      current = candidate;
      steps.push(r.label);
      kept = true;
      list = reductions(current);
      i -= 1;
    }
    if (!kept) return { scenario: current, attempts, steps, minimal: true };
  }
}
