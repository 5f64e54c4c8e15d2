import { describe, expect, it } from "vitest";
import { isEndpointsReady } from "../../src/policy/failover.js";
import {
  LINK_DEFAULTS,
  exportModeFor,
  exportModeForLabelValue,
  linkFromCli,
  mirrorEndpoints,
  mirrorServiceMeta,
  mirrorServiceName,
  parseLink,
  probeGatewayServiceName,
  selectorMatches,
  type MirrorEndpointsInput,
} from "../../src/policy/multicluster.js";

const readyEps = { subsets: [{ addresses: [{ ip: "10.1.0.5" }], ports: [{ port: 8080 }] }] };
const emptyEps = { subsets: [{ notReadyAddresses: [{ ip: "10.1.0.5" }] }] };
const east = linkFromCli({ targetClusterName: "east", gatewayAddresses: ["34.1.1.1"] });
const web = {
  name: "web",
  namespace: "emojivoto",
  labels: { app: "web", "mirror.linkerd.io/exported": "true" },
  ports: [{ name: "http", protocol: "TCP", port: 80 }],
};

function eps(overrides: Partial<MirrorEndpointsInput> = {}): MirrorEndpointsInput {
  return { remote: web, remoteEndpoints: readyEps, gatewayIps: ["34.1.1.1"], gatewayAlive: true, link: east, ...overrides };
}

describe("multicluster — vector 32", () => {
  it("vector 32: exported web in east ⇒ web-east whose Endpoints are the gateway IPs on 4143, ready iff remote ready and gateway alive", () => {
    expect(exportModeFor(web.labels, east).mode).toBe("gateway");
    expect(mirrorServiceMeta(web, east, "gateway").name).toBe("web-east");
    const ready = mirrorEndpoints(eps());
    expect(ready.name).toBe("web-east");
    expect(ready.subsets).toEqual([
      { addresses: [{ ip: "34.1.1.1" }], notReadyAddresses: [], ports: [{ name: "http", protocol: "TCP", port: 4143 }] },
    ]);
    expect(isEndpointsReady(ready)).toBe(true);
    const table: Array<[unknown, boolean, boolean]> = [
      [readyEps, true, true],
      [readyEps, false, false],
      [emptyEps, true, false],
      [emptyEps, false, false],
    ];
    for (const [remoteEndpoints, gatewayAlive, expected] of table) {
      expect(isEndpointsReady(mirrorEndpoints(eps({ remoteEndpoints, gatewayAlive })))).toBe(expected);
    }
  });
});

describe("multicluster — naming and export modes", () => {
  it("mirrors are named <svc>-<cluster> and probes go to probe-gateway-<cluster>", () => {
    expect(mirrorServiceName("podinfo", "east")).toBe("podinfo-east");
    expect(probeGatewayServiceName("east")).toBe("probe-gateway-east");
  });

  it.each([
    ["true", "gateway"],
    ["remote-discovery", "remote-discovery"],
    ["True", "not-exported"],
    ["yes", "not-exported"],
    [undefined, "not-exported"],
  ] as const)("exported=%s ⇒ %s", (value, mode) => {
    expect(exportModeForLabelValue(value)).toBe(mode);
    const labels: Record<string, string> = value === undefined ? {} : { "mirror.linkerd.io/exported": value };
    expect(exportModeFor(labels, east).mode).toBe(mode);
  });

  it("an absent or empty selector matches nothing, unlike a Kubernetes selector", () => {
    expect(selectorMatches(undefined, { a: "b" })).toBe(false);
    expect(selectorMatches({}, { a: "b" })).toBe(false);
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [] }, {})).toBe(false);
    expect(exportModeFor({ "mirror.linkerd.io/exported": "true" }, {}).mode).toBe("not-exported");
  });

  it.each([
    [{ matchLabels: { tier: "api" } }, { tier: "api", x: "y" }, true],
    [{ matchLabels: { tier: "api" } }, { tier: "web" }, false],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["api", "web"] }] }, { tier: "web" }, true],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["api"] }] }, {}, true],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["api"] }] }, { tier: "api" }, false],
    [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }, { tier: "" }, true],
    [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, { tier: "x" }, false],
    [{ matchExpressions: [{ key: "tier", operator: "Bogus", values: ["x"] }] }, { tier: "x" }, false],
  ])("selector %j on %j ⇒ %s", (selector, labels, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it("remote discovery wins when both selectors match", () => {
    const link = { selector: { matchLabels: { a: "1" } }, remoteDiscoverySelector: { matchLabels: { a: "1" } } };
    expect(exportModeFor({ a: "1" }, link).mode).toBe("remote-discovery");
  });
});

describe("multicluster — mirror metadata", () => {
  const remote = {
    name: "web",
    namespace: "emojivoto",
    resourceVersion: "4711",
    labels: { app: "web", "mirror.linkerd.io/exported": "true", "mirror.linkerd.io/other": "x" },
    annotations: {
      "config.linkerd.io/opaque-ports": "4444",
      "service.kubernetes.io/topology-aware-hints": "auto",
      "service.kubernetes.io/topology-mode": "Auto",
    },
  };

  it("copies remote labels except mirror.linkerd.io/* and marks the mirror", () => {
    expect(mirrorServiceMeta(remote, east, "gateway").labels).toEqual({
      "mirror.linkerd.io/mirrored-service": "true",
      app: "web",
      "mirror.linkerd.io/cluster-name": "east",
    });
  });

  it("remote-discovery mirrors also carry remote-discovery and remote-service labels", () => {
    expect(mirrorServiceMeta(remote, east, "remote-discovery").labels).toMatchObject({
      "multicluster.linkerd.io/remote-discovery": "east",
      "multicluster.linkerd.io/remote-service": "web",
    });
  });

  it("copies remote annotations except topology hints and records the remote FQDN and version", () => {
    expect(mirrorServiceMeta(remote, east, "gateway").annotations).toEqual({
      "config.linkerd.io/opaque-ports": "4444",
      "mirror.linkerd.io/remote-svc-fq-name": "web.emojivoto.svc.cluster.local",
      "mirror.linkerd.io/remote-resource-version": "4711",
    });
  });
});

describe("multicluster — gateway-mode mirror Endpoints", () => {
  it("an empty remote service gives no subsets at all", () => {
    const e = mirrorEndpoints(eps({ remoteEndpoints: emptyEps }));
    expect(e).toMatchObject({ subsets: [], reason: "remote-service-empty" });
  });

  it("a missing remote Endpoints object counts as empty", () => {
    expect(mirrorEndpoints(eps({ remoteEndpoints: undefined })).reason).toBe("remote-service-empty");
  });

  it("a dead gateway moves every gateway address to notReadyAddresses", () => {
    const e = mirrorEndpoints(eps({ gatewayAlive: false, gatewayIps: ["34.1.1.1", "34.1.1.2"] }));
    expect(e.reason).toBe("gateway-not-alive");
    expect(e.subsets[0]?.addresses).toEqual([]);
    expect(e.subsets[0]?.notReadyAddresses).toEqual([{ ip: "34.1.1.1" }, { ip: "34.1.1.2" }]);
  });

  it("an unresolvable gateway leaves a subset with no addresses", () => {
    const e = mirrorEndpoints(eps({ gatewayIps: [] }));
    expect(e.reason).toBe("gateway-unresolved");
    expect(isEndpointsReady(e)).toBe(false);
  });

  it("carries the gateway identity and the mirror labels", () => {
    const e = mirrorEndpoints(eps());
    expect(e.annotations["mirror.linkerd.io/remote-gateway-identity"]).toBe(
      "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local",
    );
    expect(e.labels).toEqual({ "mirror.linkerd.io/mirrored-service": "true", "mirror.linkerd.io/cluster-name": "east" });
  });

  it("remote-discovery mirrors have no Endpoints, which failover reads as never ready", () => {
    expect(isEndpointsReady(undefined)).toBe(false);
  });
});

const linkObj = {
  apiVersion: "multicluster.linkerd.io/v1alpha1",
  kind: "Link",
  metadata: { name: "east", namespace: "linkerd-multicluster", managedFields: [] },
  spec: {
    targetClusterName: "east",
    targetClusterDomain: "cluster.local",
    targetClusterLinkerdNamespace: "linkerd",
    clusterCredentialsSecret: "cluster-credentials-east",
    gatewayAddress: "34.1.1.1, 34.1.1.2",
    gatewayPort: "4143",
    gatewayIdentity: "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local",
    probeSpec: { path: "/ready", port: "4191", period: "3s" },
    selector: { matchLabels: { "mirror.linkerd.io/exported": "true" } },
    remoteDiscoverySelector: { matchLabels: { "mirror.linkerd.io/exported": "remote-discovery" } },
  },
  status: {},
};

describe("multicluster — Link parsing", () => {
  it("the CLI defaults are gateway port 4143, probe port 4191, path /ready, period 3 s", () => {
    expect([LINK_DEFAULTS.gatewayPort, LINK_DEFAULTS.probePort, LINK_DEFAULTS.probePath, LINK_DEFAULTS.probePeriodUs]).toEqual([
      4143, 4191, "/ready", 3_000_000,
    ]);
    expect(east.probeSpec).toEqual({ path: "/ready", port: 4191, periodUs: 3_000_000 });
  });

  it("a Link written by the CLI parses to the same Link the CLI helper builds", () => {
    const parsed = parseLink(linkObj);
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.value).toEqual({ ...east, gatewayAddresses: ["34.1.1.1", "34.1.1.2"] });
  });

  it("a missing gatewayPort makes the Link unusable", () => {
    const { gatewayPort: _omit, ...spec } = linkObj.spec;
    const parsed = parseLink({ ...linkObj, spec });
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics).toMatchObject([
      { severity: "error", code: "link-field-missing", field: "spec.gatewayPort", object: "Link linkerd-multicluster/east" },
    ]);
    expect(parsed.diagnostics[0]?.message).toMatch(/mirrors nothing/);
  });

  it("a numeric gatewayPort is rejected with a hint to quote it", () => {
    const parsed = parseLink({ ...linkObj, spec: { ...linkObj.spec, gatewayPort: 4143 } });
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics[0]).toMatchObject({ code: "link-field-not-string", field: "spec.gatewayPort" });
    expect(parsed.diagnostics[0]?.message).toContain('"4143"');
  });

  it.each(["3", "0s", "-3s", "3 s"])("probe period %j makes the Link unusable", (period) => {
    const probeSpec = { ...linkObj.spec.probeSpec, period };
    const parsed = parseLink({ ...linkObj, spec: { ...linkObj.spec, probeSpec } });
    expect(parsed.value).toBeUndefined();
    expect(parsed.diagnostics[0]?.code).toBe("link-probe-period-invalid");
  });

  it("a zero probe period is fine when probing is disabled by an empty path", () => {
    const probeSpec = { path: "", port: "0", period: "0s" };
    const parsed = parseLink({ ...linkObj, spec: { ...linkObj.spec, probeSpec } });
    expect(parsed.value?.probeSpec).toEqual({ path: "", port: 0, periodUs: 0 });
  });

  it("the probe period is a Go duration, so 1m30s and 1.5s both work", () => {
    const period = (p: string): number | undefined =>
      parseLink({ ...linkObj, spec: { ...linkObj.spec, probeSpec: { ...linkObj.spec.probeSpec, period: p } } }).value
        ?.probeSpec.periodUs;
    expect(period("1m30s")).toBe(90_000_000);
    expect(period("1.5s")).toBe(1_500_000);
  });

  it("an absent selector is kept absent and reported as matching nothing", () => {
    const { selector: _s, remoteDiscoverySelector: _r, ...spec } = linkObj.spec;
    const parsed = parseLink({ ...linkObj, spec });
    expect(parsed.value?.selector).toBeUndefined();
    expect(parsed.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["link-selector-empty", "warning"],
      ["link-selector-empty", "info"],
    ]);
    expect(exportModeFor({ "mirror.linkerd.io/exported": "true" }, parsed.value ?? {}).mode).toBe("not-exported");
  });

  it("an empty probe path disables probing and an empty gateway address disables the gateway", () => {
    const spec = { ...linkObj.spec, gatewayAddress: "", probeSpec: { ...linkObj.spec.probeSpec, path: "" } };
    const parsed = parseLink({ ...linkObj, spec });
    expect(parsed.value?.gatewayAddresses).toEqual([]);
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["link-no-gateway", "link-probe-disabled"]);
  });

  it("a non-object is reported, not thrown", () => {
    expect(parseLink("nope").value).toBeUndefined();
    expect(parseLink(null).diagnostics[0]?.code).toBe("link-field-missing");
  });
});
