// The control-plane chain a failover travels — Endpoints controller, linkerd-failover's watch and
// patch, the SMI adaptor, the destination controller's push — with every hop's delay showing in
// the failover timeline; remote-discovery mirrors, which have no Endpoints object, never ready for
// the operator (reference §6.1, §7.2).

import { describe, expect, it } from "vitest";
import { runScenarioText } from "../../src/api/run-scenario.js";
import type { SplitUpdate } from "../../src/mesh/failover-operator.js";
import { World } from "../../src/mesh/world.js";
import { loadScenario } from "../../src/scenario/load.js";
import { memoryReader } from "../scenario/memory-reader.js";

interface Hops {
  endpointsMs: number;
  watchMs: number;
  reconcileMs: number;
  smiAdaptorMs: number;
  propagationMs: number;
}

const BASE: Hops = { endpointsMs: 7, watchMs: 3, reconcileMs: 11, smiAdaptorMs: 13, propagationMs: 17 };

/** One cluster, a failover TrafficSplit over auth and a local auth-backup, auth lost at 10 s; every hop a constant. */
function chainScenario(h: Hops, expect = ""): string {
  return `name: chain
seed: 1
duration: 12s
clusters:
  - name: c
    services:
      - {name: auth, namespace: pay, replicas: 2}
      - {name: auth-backup, namespace: pay}
      - {name: checkout, namespace: pay, replicas: 3}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata:
          name: auth
          namespace: pay
          labels: {failover.linkerd.io/controlled-by: linkerd-failover}
          annotations: {failover.linkerd.io/primary-service: auth}
        spec: {service: auth, backends: [{service: auth, weight: 1}, {service: auth-backup, weight: 0}]}
mesh:
  controlPlane:
    endpointsDelay: {dist: constant, value: ${h.endpointsMs}ms}
    watchDelay: {dist: constant, value: ${h.watchMs}ms}
    smiAdaptorDelay: {dist: constant, value: ${h.smiAdaptorMs}ms}
    propagationDelay: {dist: constant, value: ${h.propagationMs}ms}
  failover:
    reconcileDelay: {dist: constant, value: ${h.reconcileMs}ms}
traffic:
  - {name: pay, from: {namespace: pay, deployment: checkout}, to: "http://auth.pay.svc.cluster.local/verify", rate: 60/s}
faults:
  - {at: 10s, scale: {select: {deployment: auth}, replicas: 0}}
${expect}`;
}

function runText(yaml: string) {
  const r = runScenarioText(yaml, "/nowhere");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.run;
}

/** The first update that takes weight off the primary after `afterUs`, with its three instants relative to it (ms). */
function firstFailover(updates: readonly SplitUpdate[], afterUs: number): { update: SplitUpdate; patchedMs: number; writtenMs: number; switchedMs: number } {
  const update = updates.find((u) => u.atUs >= afterUs && u.primaryShare < u.previousPrimaryShare);
  if (update === undefined) throw new Error("no failover");
  const rel = (us: number | undefined): number => (us === undefined ? Number.NaN : (us - afterUs) / 1000);
  return { update, patchedMs: rel(update.atUs), writtenMs: rel(update.profileWrittenAtUs), switchedMs: rel(update.proxiesSwitchedAtUs) };
}

/**
 * The instants the chain predicts, with constant hops and auth's pods gone at exactly 10 s:
 * patched = Endpoints sync + the operator's watch + its patch; the ServiceProfile is written a
 * watch (the adaptor's) and an adaptor sync later; every proxy has it one propagation after that
 * (no earlier delivery is pending for them, so none holds theirs back).
 */
function predicted(h: Hops): { patchedMs: number; writtenMs: number; switchedMs: number } {
  const patchedMs = h.endpointsMs + h.watchMs + h.reconcileMs;
  const writtenMs = patchedMs + h.watchMs + h.smiAdaptorMs;
  return { patchedMs, writtenMs, switchedMs: writtenMs + h.propagationMs };
}

describe("the failover chain's timeline", () => {
  it("patches after the Endpoints sync, the watch and the patch; proxies switch after the adaptor and the push", () => {
    const run = runText(chainScenario(BASE));
    const got = firstFailover(run.world.splitUpdates, 10_000_000);
    expect(got.update.weights).toEqual([{ service: "auth", weight: 0 }, { service: "auth-backup", weight: 1 }]);
    // 7 + 3 + 11 = 21 ms; + 3 + 13 = 37 ms; + 17 = 54 ms.
    expect({ patchedMs: got.patchedMs, writtenMs: got.writtenMs, switchedMs: got.switchedMs }).toEqual(predicted(BASE));
    expect(predicted(BASE)).toEqual({ patchedMs: 21, writtenMs: 37, switchedMs: 54 });
  });

  // Each hop lengthened by 1 ms moves each instant by how often that hop lies on its path.
  const bumps: Array<[keyof Hops, { patched: number; written: number; switched: number }]> = [
    ["endpointsMs", { patched: 1, written: 1, switched: 1 }],
    ["watchMs", { patched: 1, written: 2, switched: 2 }],
    ["reconcileMs", { patched: 1, written: 1, switched: 1 }],
    ["smiAdaptorMs", { patched: 0, written: 1, switched: 1 }],
    ["propagationMs", { patched: 0, written: 0, switched: 1 }],
  ];
  for (const [hop, moves] of bumps) {
    it(`shows the ${hop.replace(/Ms$/, "")} hop in the timeline`, () => {
      const hops = { ...BASE, [hop]: BASE[hop] + 1 };
      const got = firstFailover(runText(chainScenario(hops)).world.splitUpdates, 10_000_000);
      const base = predicted(BASE);
      expect([got.patchedMs - base.patchedMs, got.writtenMs - base.writtenMs, got.switchedMs - base.switchedMs]).toEqual([moves.patched, moves.written, moves.switched]);
    });
  }

  it("failover expectations measure either instant, with two-sided bands", () => {
    const expect_ = `expect:
  - name: patched in the band
    failover: {trafficSplit: pay/auth, cluster: c, after: 10s, atLeast: 21ms, within: 21ms}
  - name: switched in the band
    failover: {trafficSplit: pay/auth, cluster: c, after: 10s, at: proxiesSwitched, atLeast: 54ms, within: 54ms}
  - name: switched is not patched
    failover: {trafficSplit: pay/auth, cluster: c, after: 10s, at: proxiesSwitched, within: 53ms}
  - name: patched is not sooner than its hops
    failover: {trafficSplit: pay/auth, cluster: c, after: 10s, atLeast: 22ms}
`;
    const results = runText(chainScenario(BASE, expect_)).expectations;
    const byName = new Map(results.map((r) => [r.name, r]));
    expect(byName.get("patched in the band")).toMatchObject({ pass: true, measured: 0.021, expected: "failover in [0.021 s, 0.021 s]" });
    expect(byName.get("switched in the band")).toMatchObject({ pass: true, measured: 0.054, expected: "failover (proxies switched) in [0.054 s, 0.054 s]" });
    expect(byName.get("switched is not patched")).toMatchObject({ pass: false, measured: 0.054 });
    expect(byName.get("patched is not sooner than its hops")).toMatchObject({ pass: false, measured: 0.021, expected: "failover ≥ 0.022 s" });
  });
});

/** East's auth with a standby mirrored from west, exported `exported` (gateway mode or remote-discovery); east's auth lost at 10 s. */
function mirroredStandby(exported: string): string {
  return `name: standby
seed: 2
duration: 15s
clusters:
  - name: east
    services:
      - {name: auth, namespace: pay}
      - {name: checkout, namespace: pay}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: auth, namespace: pay, labels: {failover.linkerd.io/controlled-by: linkerd-failover}}
        spec: {service: auth, backends: [{service: auth, weight: 1}, {service: auth-west, weight: 0}]}
  - name: west
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: pay, annotations: {linkerd.io/inject: enabled}}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: auth, namespace: pay}
        spec:
          replicas: 2
          selector: {matchLabels: {app: auth}}
          template:
            metadata: {labels: {app: auth}}
            spec: {containers: [{name: auth, image: example/auth:1}]}
      - apiVersion: v1
        kind: Service
        metadata: {name: auth, namespace: pay, labels: {mirror.linkerd.io/exported: "${exported}"}}
        spec: {selector: {app: auth}, ports: [{port: 80}]}
links:
  - {from: east, to: west}
traffic:
  - {name: pay, from: {cluster: east, namespace: pay, deployment: checkout}, to: "http://auth.pay.svc.cluster.local/verify", rate: 20/s}
faults:
  - {at: 10s, scale: {select: {cluster: east, deployment: auth}, replicas: 0}}
`;
}

function runWorld(yaml: string): { world: World; splitUpdates: readonly SplitUpdate[] } {
  const loaded = loadScenario("/m/s.yaml", memoryReader({ "/m/s.yaml": yaml }));
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  const world = new World(loaded.spec);
  const result = world.run();
  return { world, splitUpdates: result.splitUpdates };
}

describe("remote-discovery mirrors and linkerd-failover", () => {
  it("a remote-discovery mirror has no Endpoints object, so the operator never sees it ready: losing the primary zeroes every weight", () => {
    const { world, splitUpdates } = runWorld(mirroredStandby("remote-discovery"));
    const east = world.clusters.get("east");
    // The destination controller still resolves the mirror to west's pods (its remote watch)...
    expect(east?.discoveredEndpoints("pay", "auth-west").map((p) => p.workload)).toEqual(["west/pay/auth", "west/pay/auth"]);
    // ...but there is no Endpoints object with addresses for linkerd-failover to read.
    expect(east?.endpointsReady("pay", "auth-west")).toBe(false);
    // Neither backend ready: reference §6.2 gives every backend weight 0.
    expect(firstFailover(splitUpdates, 10_000_000).update.weights).toEqual([{ service: "auth", weight: 0 }, { service: "auth-west", weight: 0 }]);
  });

  it("a gateway-mode mirror has Endpoints (the gateway), so the same loss fails over to it", () => {
    const { world, splitUpdates } = runWorld(mirroredStandby("true"));
    expect(world.clusters.get("east")?.endpointsReady("pay", "auth-west")).toBe(true);
    expect(firstFailover(splitUpdates, 10_000_000).update.weights).toEqual([{ service: "auth", weight: 0 }, { service: "auth-west", weight: 1 }]);
  });
});
