// Checks that need the whole scenario at once: names that must refer to something (clusters,
// namespaces and deployments in selectors, the traffic source, cluster pairs, link ends,
// expectation filters — a link target's gateway among them —, the TrafficSplit a failover
// expectation watches, a failover band that can be met), names that must be
// unique (links included), and instants that must fall
// inside the run. Each error points at the line that names the missing thing and suggests the
// closest name that does exist.

import { lastDefinitions } from "../k8s/apply.js";
import type { InputError } from "../k8s/input-error.js";
import { describeObject, type K8sObject } from "../k8s/object.js";
import { WORKLOAD_KINDS, isWorkload } from "../k8s/views.js";
import type { ExpectSpec, LinkSpec, Selector, WorldSpec } from "../mesh/spec.js";
import { suggest } from "../k8s/suggest.js";
import { canaryNames, parseCanary } from "../policy/flagger.js";
import { parseLink } from "../policy/multicluster.js";
import { formatDurationUs } from "../sim/time.js";
import { FAULT_KINDS, type ParsedScenario } from "./schema.js";
import { type FieldPath, makeError, nodeAt, positionAt, type YamlSource } from "./yaml-source.js";

/** Namespaces, deployments and TrafficSplits of one cluster. */
interface Inventory {
  namespaces: Set<string>;
  /** `namespace/name` of every workload (Deployment, StatefulSet, DaemonSet, Pod). */
  deployments: Set<string>;
  /** `namespace/name` of every TrafficSplit. */
  splits: Set<string>;
}

/** The multicluster gateway every link target runs, as expectation filters name its workload. */
export const GATEWAY_WORKLOAD = "linkerd-multicluster/linkerd-gateway";

function inventoryOf(objects: readonly K8sObject[]): Inventory {
  const inv: Inventory = { namespaces: new Set(), deployments: new Set(), splits: new Set() };
  for (const o of objects) {
    const key = `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
    if (o.kind === "Namespace") inv.namespaces.add(o.metadata.name);
    if (o.metadata.namespace !== undefined) inv.namespaces.add(o.metadata.namespace);
    if (isWorkload(o)) inv.deployments.add(key);
    if (o.kind === "TrafficSplit") inv.splits.add(key);
    if (o.kind === "Canary" && o.apiVersion.startsWith("flagger.app/")) {
      // Flagger creates `<target>-primary` and the TrafficSplit named after the apex Service.
      const canary = parseCanary(o.raw).value;
      if (canary !== undefined) {
        const names = canaryNames(canary);
        inv.deployments.add(`${canary.namespace}/${names.primaryDeployment}`);
        if (canary.provider === "linkerd") inv.splits.add(`${canary.namespace}/${names.apex}`);
      }
    }
  }
  return inv;
}

type FailoverExpect = Extract<ExpectSpec, { kind: "failover" }>;

class Checker {
  readonly errors: InputError[] = [];
  private readonly inventories: Map<string, Inventory>;

  constructor(
    private readonly world: WorldSpec,
    private readonly src: YamlSource,
  ) {
    this.inventories = new Map(world.clusters.map((c) => [c.name, inventoryOf(c.objects)]));
    this.gateways = gatewayClusters(world);
  }

  /** Clusters that run a multicluster gateway (those a link targets). */
  private readonly gateways: Set<string>;

  fail(path: FieldPath, message: string, expected?: string, suggestion?: string): void {
    this.errors.push(makeError(positionAt(this.src, path), path, message, { expected, suggestion }));
  }

  private clusterNames(): string[] {
    return this.world.clusters.map((c) => c.name);
  }

  /** True when the cluster exists; otherwise reports it. */
  cluster(name: string, path: FieldPath): boolean {
    if (this.inventories.has(name)) return true;
    const names = this.clusterNames();
    this.fail(path, `there is no cluster "${name}"`, `one of ${names.join(", ")}`, suggest(name, names));
    return false;
  }

  selector(sel: Selector, path: FieldPath): void {
    if (sel.cluster !== undefined && !this.cluster(sel.cluster, [...path, "cluster"])) return;
    const inv = [...this.inventories].filter(([name]) => sel.cluster === undefined || name === sel.cluster).map(([, i]) => i);
    const where = sel.cluster === undefined ? "in any cluster" : `in cluster ${sel.cluster}`;
    if (sel.namespace !== undefined) {
      const all = unionOf(inv.map((i) => i.namespaces));
      if (!all.has(sel.namespace)) {
        this.fail([...path, "namespace"], `no namespace "${sel.namespace}" ${where}`, undefined, suggest(sel.namespace, all));
        return;
      }
    }
    if (sel.deployment !== undefined) {
      const deps = unionOf(inv.map((i) => i.deployments));
      const names = [...deps].filter((d) => sel.namespace === undefined || d.startsWith(`${sel.namespace}/`)).map((d) => d.slice(d.indexOf("/") + 1));
      if (!names.includes(sel.deployment)) {
        const ns = sel.namespace === undefined ? "" : ` in namespace ${sel.namespace}`;
        this.fail([...path, "deployment"], `no deployment "${sel.deployment}"${ns} ${where}`, undefined, suggest(sel.deployment, names));
      }
    }
  }

  pair(pair: readonly [string, string], path: FieldPath): void {
    pair.forEach((name, i) => this.cluster(name, [...path, i]));
    if (pair[0] === pair[1]) this.fail(path, "a cluster pair needs two different clusters");
  }

  /** `cluster/namespace/deployment`, as expectation filters name workloads. */
  workload(text: string, path: FieldPath): void {
    const parts = text.split("/");
    if (parts.length !== 3 || parts.some((p) => p === "")) {
      this.fail(path, `"${text}" is not a workload name`, "cluster/namespace/deployment");
      return;
    }
    const [cluster, namespace, deployment] = parts as [string, string, string];
    if (!this.cluster(cluster, path)) return;
    if (`${namespace}/${deployment}` === GATEWAY_WORKLOAD) {
      if (!this.gateways.has(cluster)) this.fail(path, `cluster ${cluster} runs no multicluster gateway: no link targets it`);
      return;
    }
    const deps = this.inventories.get(cluster)?.deployments ?? new Set<string>();
    if (!deps.has(`${namespace}/${deployment}`)) {
      this.fail(path, `no deployment ${namespace}/${deployment} in cluster ${cluster}`, undefined, suggest(`${namespace}/${deployment}`, deps));
    }
  }

  unique(names: readonly string[], path: (i: number) => FieldPath, what: string): void {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) this.fail(path(i), `${what} "${name}" is used twice; ${what}s must be unique`);
      seen.add(name);
    });
  }

  /**
   * Both ends name clusters, and they differ; one (from, to) pair is linked once; and within one
   * `from` cluster each link has its own cluster name, since the Link object and every mirror
   * (`<svc>-<clusterName>`) are named after it and a second link would overwrite the first.
   */
  links(links: readonly LinkSpec[]): void {
    const pairs = new Map<string, number>();
    const names = new Map<string, number>();
    links.forEach((l, i) => {
      const fromOk = this.cluster(l.from, ["links", i, "from"]);
      const toOk = this.cluster(l.to, ["links", i, "to"]);
      if (!fromOk || !toOk) return;
      if (l.from === l.to) {
        this.fail(["links", i, "to"], `a link joins two different clusters; ${l.from} cannot mirror itself`);
        return;
      }
      const pair = `${l.from}/${l.to}`;
      const firstPair = pairs.get(pair);
      if (firstPair !== undefined) {
        this.fail(["links", i], `${l.from} is linked to ${l.to} twice (first at links[${firstPair}]); one link mirrors every exported Service`);
        return;
      }
      pairs.set(pair, i);
      const name = `${l.from}/${l.clusterName}`;
      const firstName = names.get(name);
      if (firstName !== undefined) {
        const path: FieldPath = ["links", i, ...(this.written(["links", i, "clusterName"]) ? ["clusterName"] : [])];
        this.fail(path, `cluster name "${l.clusterName}" is already used by links[${firstName}] in ${l.from}; the second Link and its mirrors would replace the first's`, "a --cluster-name unique within the mirroring cluster");
        return;
      }
      names.set(name, i);
    });
  }

  /**
   * A failover expectation watches a TrafficSplit that exists, says `within` and/or `atLeast` (a
   * band that is not empty) or `never`, and starts inside the run.
   */
  failover(e: FailoverExpect, index: number): void {
    const path: FieldPath = ["expect", index, "failover"];
    const shapes = "within: <duration> and/or atLeast: <duration> (failover expected) or never: true (failover must not happen)";
    const bounded = e.withinUs !== undefined || e.atLeastUs !== undefined;
    if (bounded && e.never === true) {
      this.fail([...path, "never"], "give within or atLeast, or never, not both", shapes);
    } else if (!bounded && e.never !== true) {
      this.fail(path, "a failover expectation needs within, atLeast or never", shapes);
    } else if (e.withinUs !== undefined && e.atLeastUs !== undefined && e.atLeastUs > e.withinUs) {
      this.fail([...path, "atLeast"], `atLeast ${formatDurationUs(e.atLeastUs)} is more than within ${formatDurationUs(e.withinUs)}: no failover time can pass`);
    }
    if (e.afterUs >= this.world.durationUs) {
      this.fail([...path, "after"], `after ${formatDurationUs(e.afterUs)} is not before the end of the run (duration ${formatDurationUs(this.world.durationUs)}): there is nothing left to measure`);
    }
    if (!this.cluster(e.cluster, [...path, "cluster"])) return;
    const splits = this.inventories.get(e.cluster)?.splits ?? new Set<string>();
    if (splits.has(e.trafficSplit)) return;
    const elsewhere = [...this.inventories].filter(([, inv]) => inv.splits.has(e.trafficSplit)).map(([name]) => name);
    const there = elsewhere.length > 0 ? ` (it is in ${elsewhere.join(", ")})` : "";
    const expected = splits.size > 0 ? `one of ${[...splits].join(", ")}` : `a TrafficSplit in cluster ${e.cluster}`;
    this.fail([...path, "trafficSplit"], `there is no TrafficSplit ${e.trafficSplit} in cluster ${e.cluster}${there}`, expected, suggest(e.trafficSplit, splits));
  }

  /** A canary expectation names a Flagger Canary the scenario has (the only one when unnamed). */
  canary(e: Extract<ExpectSpec, { kind: "canary" }>, index: number): void {
    const path: FieldPath = ["expect", index, "canary"];
    if (e.withinUs !== undefined && e.atLeastUs !== undefined && e.atLeastUs > e.withinUs) {
      this.fail([...path, "atLeast"], `atLeast ${formatDurationUs(e.atLeastUs)} is more than within ${formatDurationUs(e.withinUs)}: no instant can pass`);
    }
    if (e.afterUs >= this.world.durationUs) this.fail([...path, "after"], `after ${formatDurationUs(e.afterUs)} is not before the end of the run (duration ${formatDurationUs(this.world.durationUs)})`);
    const all = this.world.clusters.flatMap((c) => lastDefinitions(c.objects).filter((o) => o.kind === "Canary" && o.apiVersion.startsWith("flagger.app/")).map((o) => ({ cluster: c.name, name: `${o.metadata.namespace ?? "default"}/${o.metadata.name}` })));
    const found = all.filter((c) => (e.canary === undefined || c.name === e.canary) && (e.cluster === undefined || c.cluster === e.cluster));
    if (found.length === 1) return;
    const names = [...new Set(all.map((c) => c.name))];
    if (found.length === 0) {
      const what = e.canary === undefined ? "Flagger Canary" : `Canary ${e.canary}`;
      this.fail(e.canary === undefined ? path : [...path, "name"], `the scenario has no ${what}${e.cluster === undefined ? "" : ` in cluster ${e.cluster}`}`, names.length > 0 ? `one of ${names.join(", ")}` : "a flagger.app/v1beta1 Canary among the cluster's objects", e.canary === undefined ? undefined : suggest(e.canary, names));
    } else {
      this.fail(path, `${found.length} Canaries match (${found.map((c) => `${c.cluster} ${c.name}`).join(", ")}): say which with name and cluster`);
    }
  }

  /** Whether the scenario text has a value at exactly `path` (not only an ancestor). */
  private written(path: FieldPath): boolean {
    return nodeAt(this.src, path).depth === path.length;
  }

  /** An instant must lie inside the run. */
  instant(us: number, path: FieldPath, what: string): void {
    if (us > this.world.durationUs) {
      this.fail(path, `${what} ${formatDurationUs(us)} lies after the end of the run (duration ${formatDurationUs(this.world.durationUs)})`);
    }
  }
}

/** Link targets: the `links:` entries' `to`, and every Link object's `targetClusterName` that names a cluster of the scenario. */
function gatewayClusters(world: WorldSpec): Set<string> {
  const names = new Set(world.clusters.map((c) => c.name));
  const out = new Set(world.links.map((l) => l.to));
  for (const c of world.clusters) {
    for (const o of c.objects) {
      if (o.kind !== "Link") continue;
      const target = parseLink(o.raw).value?.targetClusterName;
      if (target !== undefined && names.has(target)) out.add(target);
    }
  }
  return out;
}

function unionOf<T>(sets: ReadonlyArray<ReadonlySet<T>>): Set<T> {
  const out = new Set<T>();
  for (const s of sets) for (const v of s) out.add(v);
  return out;
}

export function crossCheck(world: WorldSpec, parsed: ParsedScenario, src: YamlSource): InputError[] {
  const c = new Checker(world, src);
  c.unique(world.clusters.map((x) => x.name), (i) => ["clusters", i, "name"], "cluster name");
  c.unique(world.traffic.map((x) => x.name), (i) => ["traffic", i, "name"], "traffic name");
  c.unique(parsed.expect.map((x) => x.name), (i) => ["expect", i, "name"], "expectation name");
  c.links(world.links);
  world.network.between.forEach((b, i) => c.pair(b.clusters, ["network", "between", i, "clusters"]));
  world.behavior.forEach((b, i) => c.selector(b.select, ["behavior", i, "select"]));
  world.traffic.forEach((t, i) => {
    c.selector(t.from, ["traffic", i, "from"]);
    t.rate.forEach((p, j) => {
      if (typeof parsed.traffic[i]?.rate === "object") c.instant(p.atUs, ["traffic", i, "rate", j, "at"], "this schedule point at");
    });
  });
  world.faults.forEach((f, i) => {
    const kind = FAULT_KINDS.find((k) => parsed.faults[i]?.[k] !== undefined) ?? f.action.kind;
    const path: FieldPath = ["faults", i, kind];
    const a = f.action;
    if ("select" in a) c.selector(a.select, [...path, "select"]);
    if ("between" in a) c.pair(a.between, [...path, "between"]);
    if ("cluster" in a) c.cluster(a.cluster, [...path, "cluster"]);
    if (f.atUs >= world.durationUs) c.fail(["faults", i, "at"], `this fault starts at ${formatDurationUs(f.atUs)}, not before the end of the run (duration ${formatDurationUs(world.durationUs)})`);
  });
  world.expect.forEach((e, i) => {
    const at = parsed.expect.findIndex((p) => p.name === e.name);
    const index = at < 0 ? i : at;
    if (e.kind === "failover") c.failover(e, index);
    if (e.kind === "canary") c.canary(e, index);
    if (e.kind !== "metric") return;
    const [from, to] = e.window;
    if (from >= to) c.fail(["expect", index, "window"], "the window must end after it starts");
    else c.instant(to, ["expect", index, "window", 1], "the window end");
    if (e.where.traffic !== undefined && !world.traffic.some((t) => t.name === e.where.traffic)) {
      const names = world.traffic.map((t) => t.name);
      c.fail(["expect", index, "where", "traffic"], `there is no traffic "${e.where.traffic}"`, `one of ${names.join(", ")}`, suggest(e.where.traffic, names));
    }
    if (e.where.client !== undefined) c.workload(e.where.client, ["expect", index, "where", "client"]);
    if (e.where.server !== undefined) c.workload(e.where.server, ["expect", index, "where", "server"]);
  });
  return c.errors;
}
