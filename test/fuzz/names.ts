// Names a scenario already uses — clusters, namespaces, workloads, Services, the URLs its traffic
// calls, trust anchors — so a drawn `{$ref: "deployment", n: 3}` becomes a name that selects
// something (the 3rd modulo how many there are), and faults and selectors hit real pods.

import type { Doc } from "./corpus.js";
import { isNameRef, type NameRef } from "./values.js";

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string[] => (typeof v === "string" && v !== "" ? [v] : []);

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Pod"]);

function namesIn(doc: Doc): Record<NameRef["$ref"], string[]> {
  const clusters = list(doc["clusters"]).filter(isMap);
  const objects = clusters.flatMap((c) => list(c["objects"]).filter(isMap));
  const meta = (o: Record<string, unknown>) => (isMap(o["metadata"]) ? o["metadata"] : {});
  const shorthand = clusters.flatMap((c) => list(c["services"]).filter(isMap));
  const services = [...objects.filter((o) => o["kind"] === "Service").flatMap((o) => str(meta(o)["name"])), ...shorthand.flatMap((s) => str(s["name"]))];
  const namespaces = [
    ...objects.flatMap((o) => (o["kind"] === "Namespace" ? str(meta(o)["name"]) : str(meta(o)["namespace"]))),
    ...shorthand.flatMap((s) => str(s["namespace"])),
  ];
  const urls = [
    ...list(doc["traffic"]).filter(isMap).flatMap((t) => str(t["to"])),
    ...objects.filter((o) => o["kind"] === "Service").map((o) => `http://${String(meta(o)["name"])}.${String(meta(o)["namespace"] ?? "default")}.svc.cluster.local/`),
  ];
  const mesh = isMap(doc["mesh"]) ? doc["mesh"] : {};
  return {
    cluster: clusters.flatMap((c) => str(c["name"])),
    namespace: [...new Set(namespaces)],
    deployment: [...objects.filter((o) => WORKLOADS.has(String(o["kind"]))).flatMap((o) => str(meta(o)["name"])), ...shorthand.flatMap((s) => str(s["name"]))],
    service: services,
    url: urls,
    anchor: ["root", ...str(mesh["trustAnchor"]), ...clusters.flatMap((c) => str(c["trustAnchor"]))],
  };
}

/** `value` with every name reference replaced by the name it picks in `doc` (`missing` when there is none). */
export function resolveRefs(value: unknown, doc: Doc): unknown {
  let names: Record<NameRef["$ref"], string[]> | undefined;
  const walk = (v: unknown): unknown => {
    if (isNameRef(v)) {
      names ??= namesIn(doc);
      const options = names[v.$ref];
      return options.length === 0 ? "missing" : options[v.n % options.length];
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isMap(v)) {
      for (const k of Object.keys(v)) v[k] = walk(v[k]);
      return v;
    }
    return v;
  };
  return walk(value);
}
