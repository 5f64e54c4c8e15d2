// Traffic must be aimed at something: its `to:` host is resolved the way the mesh resolves it (a
// `dns:` name, else cluster DNS from the client's namespace, mirrors included), and a host that
// names nothing is an input error at `to:` with the closest name that exists. A Service nothing
// serves loads with a warning. Positions come from the YAML text; messages are the exact
// diagnostics a user reads.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { InputError } from "../../src/k8s/input-error.js";
import { loadScenario } from "../../src/scenario/load.js";
import { filesBelow, memoryReader, positionOf } from "./memory-reader.js";

const FILE = "/s/scenario.yaml";
const REAL_SHAPES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/real-shapes");

const BASE = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services:
      - {name: client}
      - {name: server}
      - {name: auth, namespace: payments}
traffic:
  - name: load
    from: {namespace: default, deployment: client}
    to: http://server.default.svc.cluster.local/
    rate: 100/s
`;

/** Two clusters, west's auth exported to east through a link. */
const LINKED = `name: mc
seed: 1
duration: 10s
clusters:
  - name: east
    services:
      - {name: client, namespace: payments}
  - name: west
    objects:
      - apiVersion: v1
        kind: Service
        metadata: {name: auth, namespace: payments, labels: {mirror.linkerd.io/exported: "true"}}
        spec: {selector: {app: auth}, ports: [{port: 80}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: ledger, namespace: payments}
        spec: {selector: {app: ledger}, ports: [{port: 80}]}
    services:
      - {name: auth-pods, namespace: payments}
links:
  - {from: east, to: west}
traffic:
  - name: load
    from: {namespace: payments, deployment: client}
    to: http://auth-west.payments.svc.cluster.local/
    rate: 10/s
`;

function load(yaml: string, files: Record<string, string> = {}) {
  return loadScenario(FILE, memoryReader({ [FILE]: yaml, ...files }));
}

function errorsOf(yaml: string): InputError[] {
  const r = load(yaml);
  if (r.ok) throw new Error("expected the scenario to be refused");
  return r.errors;
}

function warningsOf(yaml: string): InputError[] {
  const r = load(yaml);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.warnings;
}

const EXPECTED_EAST = "a Service of cluster east (http://<service>.<namespace>.svc.cluster.local), a mirror <service>-<cluster> created by a link, or a name under dns:";

describe("traffic to nothing", () => {
  it("a misspelt Service is an error at to:, suggesting the URL respelt", () => {
    const yaml = BASE.replace("http://server.default", "http://sever.default");
    expect(errorsOf(yaml)).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "http://sever"),
        path: "traffic[0].to",
        message: 'traffic "load" calls Service default/sever, which does not exist in cluster east',
        expected: EXPECTED_EAST,
        suggestion: "http://server.default.svc.cluster.local/",
      },
    ]);
  });

  it("a short name resolves in the client's namespace, and the suggestion keeps the short form", () => {
    const yaml = BASE.replace("http://server.default.svc.cluster.local/", "http://sevrer/x");
    const [e] = errorsOf(yaml);
    expect(e).toMatchObject({ ...positionOf(yaml, "http://sevrer"), message: 'traffic "load" calls Service default/sevrer, which does not exist in cluster east', suggestion: "http://server/x" });
  });

  it("a Service that exists only in another namespace is not found from the client's", () => {
    const yaml = BASE.replace("http://server.default.svc.cluster.local/", "http://auth/");
    const [e] = errorsOf(yaml);
    expect(e).toMatchObject({ message: 'traffic "load" calls Service default/auth, which does not exist in cluster east', suggestion: "http://auth.payments/" });
  });

  it("a host in another cluster DNS domain names nothing, and the suggestion is the FQDN that resolves", () => {
    const yaml = BASE.replace("http://server.default.svc.cluster.local/", "http://server.default.svc.cluster.lcoal/");
    expect(errorsOf(yaml)).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "http://server.default.svc.cluster.lcoal"),
        path: "traffic[0].to",
        message: 'traffic "load" goes to server.default.svc.cluster.lcoal, which is neither a Service name cluster east resolves (its DNS domain is cluster.local) nor a name under dns:',
        expected: EXPECTED_EAST,
        suggestion: "http://server.default.svc.cluster.local/",
      },
    ]);
  });

  it("a name under dns: is a target, and a misspelt one is suggested", () => {
    const dns = "dns:\n  - name: auth.global\n    records: [{cluster: east, service: payments/auth}]\n";
    expect(warningsOf(`${BASE.replace("http://server.default.svc.cluster.local/", "http://auth.global/")}${dns}`)).toEqual([]);
    const [e] = errorsOf(`${BASE.replace("http://server.default.svc.cluster.local/", "http://auth.globl/")}${dns}`);
    // Two labels read as service.namespace, as cluster DNS reads them; the dns: name is closer.
    expect(e).toMatchObject({ message: 'traffic "load" calls Service globl/auth, which does not exist in cluster east', suggestion: "http://auth.global/" });
  });

  it("a Service of another cluster is reached only through a link's mirror, and the error says so", () => {
    const yaml = LINKED.replace("auth-west.payments", "ledger.payments");
    const [e] = errorsOf(yaml);
    expect(e).toMatchObject({
      message: 'traffic "load" calls Service payments/ledger, which does not exist in cluster east (cluster west has it; traffic from east reaches another cluster only through a link\'s mirror)',
    });
  });

  it("the mirror of an exported Service is a target", () => {
    expect(warningsOf(LINKED)).toEqual([]);
  });

  it("the mirror name of a Service the link does not export is an error that names the missing label", () => {
    const yaml = LINKED.replace("auth-west.payments", "ledger-west.payments");
    const [e] = errorsOf(yaml);
    expect(e).toMatchObject({
      path: "traffic[0].to",
      message: 'traffic "load" calls Service payments/ledger-west, which does not exist in cluster east (it would mirror west\'s payments/ledger, which the link does not export without the label mirror.linkerd.io/exported: "true")',
    });
    expect(e?.suggestion).toBeUndefined();
  });

  it("a --cluster-name names the mirrors, so the plain cluster name is then nothing", () => {
    const renamed = LINKED.replace("{from: east, to: west}", "{from: east, to: west, clusterName: w}");
    expect(warningsOf(renamed.replace("auth-west.payments", "auth-w.payments"))).toEqual([]);
    expect(errorsOf(renamed)[0]).toMatchObject({ message: expect.stringMatching(/^traffic "load" calls Service payments\/auth-west, which does not exist in cluster east/), suggestion: "http://auth-w.payments.svc.cluster.local/" });
  });

  it("reports every traffic entry aimed at nothing at once, next to other cross-reference errors", () => {
    const yaml = `${BASE}  - {name: two, from: {namespace: default, deployment: client}, to: "http://nope.default/", rate: 1/s}\n`.replace("http://server.default", "http://sever.default");
    expect(errorsOf(yaml).map((e) => e.path)).toEqual(["traffic[0].to", "traffic[1].to"]);
  });

  it("the whole-manifest case: a misspelt Service among real manifests", () => {
    const dir = join(REAL_SHAPES, "traffic-to-nothing");
    const file = join(dir, "scenario.yaml");
    const r = loadScenario(file, memoryReader(filesBelow(dir)));
    const yaml = filesBelow(dir)[file] as string;
    expect(r.ok ? [] : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "http://wbe"),
        path: "traffic[0].to",
        message: 'traffic "list" calls Service shop/wbe, which does not exist in cluster shop',
        expected: "a Service of cluster shop (http://<service>.<namespace>.svc.cluster.local), a mirror <service>-<cluster> created by a link, or a name under dns:",
        suggestion: "http://web.shop.svc.cluster.local/api/list",
      },
    ]);
  });
});

describe("traffic to a Service no workload serves", () => {
  it("loads, with a warning at to: naming the selector nothing matches", () => {
    const yaml = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services: [{name: client}]
    objects:
      - {apiVersion: v1, kind: Service, metadata: {name: orphan}, spec: {selector: {app: orphan}, ports: [{port: 80}]}}
traffic:
  - {name: load, from: {namespace: default, deployment: client}, to: "http://orphan/", rate: 1/s}
`;
    expect(warningsOf(yaml)).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, '"http://orphan/"'),
        path: "traffic[0].to",
        message: 'traffic "load" calls Service default/orphan in cluster east, but no Deployment, StatefulSet, DaemonSet or Pod in namespace default has pods labelled app=orphan: every request will fail without an endpoint',
      },
    ]);
  });

  it("a Service without a selector has no endpoints either", () => {
    const yaml = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services: [{name: client}]
    objects:
      - {apiVersion: v1, kind: Service, metadata: {name: external}, spec: {ports: [{port: 80}]}}
traffic:
  - {name: load, from: {namespace: default, deployment: client}, to: "http://external/", rate: 1/s}
`;
    expect(warningsOf(yaml).map((w) => w.message)).toEqual([
      'traffic "load" calls Service default/external in cluster east, but it has no selector, so no pod is ever its endpoint: every request will fail without an endpoint',
    ]);
  });

  it("the apex of a TrafficSplit is served by its backends: no warning", () => {
    const yaml = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services: [{name: client}, {name: web-v1}]
    objects:
      - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: web}
        spec: {service: web, backends: [{service: web-v1, weight: 1}]}
traffic:
  - {name: load, from: {namespace: default, deployment: client}, to: "http://web/", rate: 1/s}
`;
    expect(warningsOf(yaml)).toEqual([]);
  });

  it("the whole-manifest case: a selector that names a label no pod carries", () => {
    const dir = join(REAL_SHAPES, "service-without-workload");
    const file = join(dir, "scenario.yaml");
    const yaml = filesBelow(dir)[file] as string;
    const r = loadScenario(file, memoryReader(filesBelow(dir)));
    expect(r.ok ? r.warnings : r.errors).toEqual([
      {
        file: "scenario.yaml",
        ...positionOf(yaml, "http://web"),
        path: "traffic[0].to",
        message: 'traffic "list" calls Service shop/web in cluster shop, but no Deployment, StatefulSet, DaemonSet or Pod in namespace shop has pods labelled app=web-server: every request will fail without an endpoint',
      },
    ]);
  });
});
