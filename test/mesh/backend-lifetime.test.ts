// Concrete backends live as long as a config lists them (linkerd2-proxy's `NewBackendCache`): a
// TrafficSplit backend whose weight drops to 0 leaves the proxy with its queue, balancer and
// fail-fast gate, and comes back fresh when it is listed again. Expected values: reference §5.1
// (weight-0 dstOverrides are dropped; each target is its own concrete balancer) and §4.4
// (fail-fast 3 s after the first request waits, 504; a shut gate sheds with 503).

import { describe, expect, it } from "vitest";
import { type Answer, FakeMesh, MS, pod, S } from "./fake-mesh.js";

function manifests(eastWeight: number, westWeight: number): string {
  const svc = (name: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: app}
spec: {selector: {app: ${name}}, ports: [{port: 80}]}
---
`;
  return `${svc("auth")}${svc("auth-east")}${svc("auth-west")}apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: auth, namespace: app}
spec:
  service: auth
  backends:
    - {service: auth-east, weight: ${eastWeight}}
    - {service: auth-west, weight: ${westWeight}}
`;
}

const AUTH = { host: "auth.app.svc.cluster.local" };

/**
 * Requests every 100 ms. The primary (east) loses its endpoints at 1.05 s; the operator fails over
 * at 2.05 s (east 0, west 1) and back at 8 s (east 1, west 0) once east is ready again. At fail-back the
 * config reaches the proxy 1 ms after east's Endpoints were written, while the endpoint update to
 * balancers already subscribed lands 500 ms later — the order the two independent pushes can take.
 */
function failoverCycle(): { mesh: FakeMesh; answers: Answer[] } {
  const mesh = new FakeMesh(manifests(1, 0));
  const east = pod("auth-east");
  mesh.setEndpoints("auth-east", [east]);
  mesh.setEndpoints("auth-west", [pod("auth-west")]);
  const client = mesh.proxy();
  const answers: Answer[] = [];
  for (let i = 0; i < 120; i++) mesh.send(client, AUTH, i * 100 * MS, answers, i);
  mesh.sim.scheduleAt(1_050 * MS, () => mesh.setEndpoints("auth-east", []), undefined);
  mesh.sim.scheduleAt(2_050 * MS, () => mesh.pushConfig(manifests(0, 1), "auth"), undefined);
  mesh.sim.scheduleAt(8 * S, () => mesh.setEndpoints("auth-east", [east], 500 * MS), undefined);
  mesh.sim.scheduleAt(8 * S + 1 * MS, () => mesh.pushConfig(manifests(1, 0), "auth"), undefined);
  mesh.run(20 * S);
  return { mesh, answers };
}

describe("a backend dropped at failover and listed again at fail-back", () => {
  it("loses nothing at fail-back after a failover longer than 3 s", () => {
    // A backend kept across the failover would still be in fail-fast with no endpoints when the
    // config lists it again, and every request until its endpoint update landed would be shed.
    const { answers } = failoverCycle();
    expect(answers.filter((a) => a.atUs >= 8 * S)).not.toHaveLength(0);
    expect(answers.filter((a) => a.atUs >= 8 * S && a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.status === 503)).toEqual([]);
  });

  it("is rebuilt fresh: a new balancer, starting from the endpoints discovery has now", () => {
    const { mesh } = failoverCycle();
    const eastBuilds = mesh.balancers.filter((r) => r.service === "app/auth-east");
    expect(eastBuilds.map((r) => r.generation)).toEqual([0, 1]);
    const [old, fresh] = eastBuilds as [(typeof eastBuilds)[0], (typeof eastBuilds)[0]];
    expect(old.closed).toBe(true);
    // The dropped one no longer hears endpoint updates: east's return at 8.5 s never reached it.
    expect(old.balancer.endpointCount).toBe(0);
    expect(fresh.closed).toBe(false);
    expect(fresh.balancer.endpointCount).toBe(1);
    expect(mesh.marks("backend.rebuilt", "listed-again")).toBe(1);
  });

  it("keeps serving what was queued in the dropped backend: it fails fast 3 s after the first request waited", () => {
    const { mesh, answers } = failoverCycle();
    // The ten requests at 1.1 … 2.0 s waited in east's queue; the failover at 2.05 s dropped east
    // from the cache, but its worker still holds them and fails them at 1.1 + 3 = 4.1 s. Requests
    // from 2.1 s on go to west.
    const failed = answers.filter((a) => a.status !== 200);
    expect(failed).toHaveLength(10);
    for (const a of failed) expect(a).toEqual({ atUs: 4_100 * MS, status: 504, error: "fail-fast" });
    expect(mesh.marks("backend.dropped")).toBe(2); // east at failover, west at fail-back
    const closedEast = mesh.events.filter((e) => e.kind === "backend.closed" && String(e.fields["backend"]).includes("auth-east"));
    expect(closedEast.map((e) => e.atUs)).toEqual([4_100 * MS]);
  });

  it("loses nothing at fail-back either when the endpoint update lands before the config", () => {
    // Same cycle, the other order of the two pushes at fail-back (endpoints at 8 s, config at
    // 8.6 s): the rebuilt backend starts from the endpoints discovery has then.
    const mesh = new FakeMesh(manifests(1, 0));
    const east = pod("auth-east");
    mesh.setEndpoints("auth-east", [east]);
    mesh.setEndpoints("auth-west", [pod("auth-west")]);
    const client = mesh.proxy();
    const answers: Answer[] = [];
    for (let i = 0; i < 120; i++) mesh.send(client, AUTH, i * 100 * MS, answers, i);
    mesh.sim.scheduleAt(1_050 * MS, () => mesh.setEndpoints("auth-east", []), undefined);
    mesh.sim.scheduleAt(2_050 * MS, () => mesh.pushConfig(manifests(0, 1), "auth"), undefined);
    mesh.sim.scheduleAt(8 * S, () => mesh.setEndpoints("auth-east", [east]), undefined);
    mesh.sim.scheduleAt(8 * S + 600 * MS, () => mesh.pushConfig(manifests(1, 0), "auth"), undefined);
    mesh.run(20 * S);
    expect(answers.filter((a) => a.atUs >= 8 * S && a.status !== 200)).toEqual([]);
  });
});
