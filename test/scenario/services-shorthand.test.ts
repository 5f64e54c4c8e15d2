// The services shorthand expands into the real objects it stands for, with injection written
// where Linkerd reads it and positions pointing back at the shorthand entry.

import { describe, expect, it } from "vitest";
import { describeObject, type SourcePosition } from "../../src/k8s/object.js";
import type { ServiceShorthand } from "../../src/scenario/schema.js";
import { expandServices, SHORTHAND_IMAGE } from "../../src/scenario/services-shorthand.js";

const svc = (over: Partial<ServiceShorthand> & { name: string }): ServiceShorthand => ({ namespace: "default", replicas: 1, meshed: true, port: 80, ...over });

/** The value at a path inside a raw object. */
function dig(value: unknown, ...path: Array<string | number>): unknown {
  return path.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[k] : undefined), value);
}

/** A fake position: line = entry + 1, col = how many path elements the field had. */
const positionOf = (entry: number, field: ReadonlyArray<string | number>): SourcePosition => ({ file: "s.yaml", line: entry + 1, col: field.length + 1 });

describe("the services shorthand", () => {
  const objects = expandServices([svc({ name: "web", port: 8080, replicas: 3 }), svc({ name: "legacy", meshed: false }), svc({ name: "db", namespace: "data", meshed: false })], {
    namespacesDefined: new Set(),
    positionOf,
  });
  const byName = (d: string) => objects.find((o) => describeObject(o) === d);

  it("creates each namespace once, then a Deployment and a Service per entry", () => {
    expect(objects.map(describeObject)).toEqual([
      "Namespace default",
      "Namespace data",
      "Deployment default/web",
      "Service default/web",
      "Deployment default/legacy",
      "Service default/legacy",
      "Deployment data/db",
      "Service data/db",
    ]);
  });

  it("annotates a namespace for injection when any shorthand service in it is meshed", () => {
    expect(byName("Namespace default")?.metadata.annotations).toEqual({ "linkerd.io/inject": "enabled" });
    expect(byName("Namespace data")?.metadata.annotations).toEqual({});
    expect(byName("Namespace default")?.raw).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default", annotations: { "linkerd.io/inject": "enabled" } } });
  });

  it("says enabled or disabled on every pod template, so a pod's own choice wins over its namespace", () => {
    const inject = (d: string) => dig(byName(d)?.raw, "spec", "template", "metadata", "annotations", "linkerd.io/inject");
    expect([inject("Deployment default/web"), inject("Deployment default/legacy"), inject("Deployment data/db")]).toEqual(["enabled", "disabled", "disabled"]);
  });

  it("builds a Deployment labelled app=<name> with one container on the port", () => {
    const d = byName("Deployment default/web");
    expect(d?.metadata.labels).toEqual({ app: "web" });
    expect(d?.raw).toMatchObject({
      apiVersion: "apps/v1",
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: SHORTHAND_IMAGE, ports: [{ name: "http", containerPort: 8080 }] }] } },
      },
    });
  });

  it("builds a Service selecting app=<name> on the port", () => {
    expect(byName("Service default/web")?.raw).toMatchObject({ apiVersion: "v1", spec: { selector: { app: "web" }, ports: [{ port: 8080, targetPort: 8080 }] } });
  });

  it("points generated fields at the shorthand key they came from", () => {
    const d = byName("Deployment default/web");
    expect(d?.source).toEqual(positionOf(0, []));
    expect(d?.positionOf(["spec", "replicas"])).toEqual(positionOf(0, ["replicas"]));
    expect(d?.positionOf(["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"])).toEqual(positionOf(0, ["port"]));
    expect(byName("Service data/db")?.positionOf(["metadata", "namespace"])).toEqual(positionOf(2, ["namespace"]));
  });

  it("copies a readiness probe into the container", () => {
    const probe = { httpGet: { path: "/ready", port: 80 }, periodSeconds: 5 };
    const [d] = expandServices([svc({ name: "web", readinessProbe: probe })], { namespacesDefined: new Set(["default"]), positionOf });
    expect(dig(d?.raw, "spec", "template", "spec", "containers", 0, "readinessProbe")).toEqual(probe);
  });

  it("does not create a namespace a manifest already defines", () => {
    const out = expandServices([svc({ name: "web" })], { namespacesDefined: new Set(["default"]), positionOf });
    expect(out.map((o) => o.kind)).toEqual(["Deployment", "Service"]);
  });
});
