import { describe, expect, it } from "vitest";
import { type IdentityOptions, IdentitySystem, type ProxyRef } from "../../src/mesh/identity.js";
import { Simulation } from "../../src/sim/simulation.js";

const S = 1_000_000;
const M = 60 * S;
const H = 60 * M;
/** Issuance lifetime 24h plus the 20 s clock-skew allowance on NotAfter (reference §8). */
const LEAF_US = 24 * H + 20 * S;
/** The proxy's refresh_in: 70% of the time left, floored to whole µs (reference §8). */
const seventyPercent = (us: number): number => Math.floor((us * 7) / 10);

interface Traced { atUs: number; kind: string; fields: Record<string, string | number | boolean | null> }
interface Pod extends ProxyRef { alive: boolean }

function mesh(clusters: Array<{ name: string; trustAnchor: string }>, opts?: IdentityOptions) {
  const sim = new Simulation({ seed: "identity" });
  const trace: Traced[] = [];
  const ids = new IdentitySystem({ sim, emit: (kind, fields) => trace.push({ atUs: sim.nowUs, kind, fields }) }, clusters, opts);
  const start = (cluster: string, name: string): Pod => {
    const pod: Pod = { label: `pod/${cluster}/shop/${name}`, alive: true, cluster, identity: `${name.replace(/-\d+$/, "")}.shop` };
    ids.proxyStarted(pod);
    return pod;
  };
  const runTo = (untilUs: number): void => {
    sim.run({ untilUs, maxEvents: 1_000_000 });
  };
  const of = (kind: string, pod?: Pod): Traced[] => trace.filter((t) => t.kind === kind && (pod === undefined || t.fields["proxy"] === pod.label));
  return { sim, ids, trace, start, runTo, of };
}

const ONE = [{ name: "east", trustAnchor: "root-a" }];

describe("vector 31: leaf validity and renewal timing", () => {
  it("a leaf issued at T is valid from T−20s to T+24h+20s", () => {
    const m = mesh(ONE);
    m.runTo(1 * H);
    const pod = m.start("east", "web-0");
    const leaf = m.ids.certOf(pod).leaf;
    expect(leaf?.notBeforeUs).toBe(1 * H - 20 * S);
    expect(leaf?.notAfterUs).toBe(1 * H + 24 * H + 20 * S);
    expect(m.of("identity.issued", pod)[0]?.fields["reason"]).toBe("issued");
  });

  it("the proxy renews at T + 0.7×(24h+20s) = T+16h48m14s", () => {
    const m = mesh(ONE);
    m.runTo(1 * H);
    const pod = m.start("east", "web-0");
    m.runTo(20 * H);
    const issued = m.of("identity.issued", pod).map((t) => t.atUs);
    expect(seventyPercent(LEAF_US)).toBe(16 * H + 48 * M + 14 * S);
    expect(issued).toEqual([1 * H, 1 * H + 16 * H + 48 * M + 14 * S]);
    expect(m.of("identity.issued", pod)[1]?.fields["renewal"]).toBe(true);
  });

  it("with the issuer expiring at T+1h the leaf is clamped to it and renewed at T+42m", () => {
    const T = 2 * H;
    const m = mesh(ONE, { issuerValidityUs: T + 1 * H });
    m.runTo(T);
    const pod = m.start("east", "web-0");
    expect(m.ids.certOf(pod).leaf?.notAfterUs).toBe(T + 1 * H);
    expect(m.of("identity.issued", pod)[0]?.fields["reason"]).toBe("issued-clamped-to-issuer");
    m.runTo(T + 50 * M);
    expect(seventyPercent(1 * H)).toBe(42 * M);
    expect(m.of("identity.issued", pod).map((t) => t.atUs)).toEqual([T, T + 42 * M]);
  });
});

describe("trust between clusters", () => {
  const m = mesh([
    { name: "east", trustAnchor: "root-a" },
    { name: "west", trustAnchor: "root-b" },
    { name: "north", trustAnchor: "root-a" },
  ]);
  const east = m.start("east", "web-0");
  const west = m.start("west", "api-0");
  const north = m.start("north", "api-0");

  it("clusters sharing an anchor complete the handshake both ways", () => {
    expect(m.ids.handshake(east, north)).toMatchObject({ ok: true });
    expect(m.ids.handshake(north, east)).toMatchObject({ ok: true });
  });

  it.each([
    ["east → west", east, west, "server-unknown-trust-anchor:root-b"],
    ["west → east", west, east, "server-unknown-trust-anchor:root-a"],
  ])("clusters with different anchors fail (%s), naming the anchor the client does not trust", (_, client, server, reason) => {
    expect(m.ids.handshake(client, server)).toEqual({ ok: false, reason, code: "server-unknown-trust-anchor" });
  });

  it("traces failed handshakes only", () => {
    const before = m.of("identity.handshake-failed").length;
    m.ids.handshake(east, north);
    expect(m.of("identity.handshake-failed").length).toBe(before);
    m.ids.handshake(east, west);
    expect(m.of("identity.handshake-failed").at(-1)?.fields).toMatchObject({ reason: "server-unknown-trust-anchor", anchor: "root-b", side: "server" });
  });

  it("a cluster whose anchor is replaced gives new proxies certificates the others reject", () => {
    m.ids.replaceAnchor("north", "root-c");
    const fresh = m.start("north", "api-1");
    expect(m.ids.handshake(east, fresh).reason).toBe("server-unknown-trust-anchor:root-c");
    expect(m.ids.handshake(east, north).ok).toBe(true); // started before the change: old leaf and bundle
  });
});

describe("issuer expiry", () => {
  const m = mesh(ONE);
  const a = m.start("east", "web-0");
  const b = m.start("east", "api-0");
  const firstRefreshUs = seventyPercent(LEAF_US);
  m.runTo(1 * H);
  m.ids.expireIssuer("east");

  it("refuses the next CSR and retries at 70% of the time the held leaf has left", () => {
    const secondTryUs = firstRefreshUs + seventyPercent(LEAF_US - firstRefreshUs);
    m.runTo(secondTryUs + 1);
    const failed = m.of("identity.refresh-failed", a);
    expect(failed.map((t) => t.atUs)).toEqual([firstRefreshUs, secondTryUs]);
    expect(failed.map((t) => t.fields["reason"])).toEqual(["issuer-expired", "issuer-expired"]);
  });

  it("keeps handshakes working until the leaf's NotAfter, then fails them mesh-wide", () => {
    m.runTo(LEAF_US);
    expect(m.ids.handshake(a, b).ok).toBe(true);
    const versionBefore = m.ids.version;
    m.runTo(LEAF_US + 2);
    expect(m.ids.handshake(a, b)).toMatchObject({ ok: false, reason: "server-leaf-expired" });
    expect(m.ids.handshake(b, a)).toMatchObject({ ok: false, reason: "server-leaf-expired" });
    expect(m.ids.version).toBeGreaterThan(versionBefore);
    expect(m.of("identity.leaf-expired", a)).toHaveLength(1);
  });

  it("leaves a proxy started after the expiry uncertified, retrying every 10 s", () => {
    const c = m.start("east", "cart-0");
    const t0 = m.sim.nowUs;
    m.runTo(t0 + 25 * S);
    expect(m.ids.certOf(c).leaf).toBeUndefined();
    expect(m.of("identity.refresh-failed", c).map((t) => [t.atUs - t0, t.fields["reason"]])).toEqual([
      [0, "issuer-expired"], [10 * S, "issuer-expired"], [20 * S, "issuer-expired"],
    ]);
  });

  it("is reported by the check diagnostics: expired issuer and expired leaves", () => {
    const codes = m.ids.diagnostics().map((d) => `${d.code} ${d.object}`);
    expect(codes).toContain("identity-issuer-not-time-valid Secret linkerd/linkerd-identity-issuer");
    expect(codes).toContain("identity-proxy-cert-expired Pod shop/web-0");
  });

  it("is healed by rotating to a valid issuer: the next retry certifies", () => {
    expect(m.ids.rotateIssuer("east")).toEqual({ event: "IssuerUpdated", reason: "issuer-verified" });
    m.runTo(m.sim.nowUs + 10 * S + 1);
    expect(m.ids.handshake(a, b).ok).toBe(true);
  });
});

describe("issuer rotation with the same anchor", () => {
  const m = mesh(ONE);
  const a = m.start("east", "web-0");
  const b = m.start("east", "api-0");
  const oldIssuer = m.ids.issuerOf("east").id;
  m.runTo(1 * H);
  const rotated = m.ids.rotateIssuer("east");
  const c = m.start("east", "cart-0");

  it("is accepted by the identity controller", () => {
    expect(rotated).toEqual({ event: "IssuerUpdated", reason: "issuer-verified" });
    expect(m.ids.issuerOf("east").id).not.toBe(oldIssuer);
    expect(m.ids.certOf(c).leaf?.issuerId).toBe(m.ids.issuerOf("east").id);
  });

  it("keeps old-issuer and new-issuer leaves trusting each other", () => {
    expect(m.ids.certOf(a).leaf?.issuerId).toBe(oldIssuer);
    for (const [x, y] of [[a, b], [a, c], [c, a], [c, b]] as const) expect(m.ids.handshake(x, y).ok).toBe(true);
  });

  it("hands out new-issuer leaves at the next refresh, still without a failed handshake", () => {
    m.runTo(seventyPercent(LEAF_US) + 1);
    expect(m.ids.certOf(a).leaf?.issuerId).toBe(m.ids.issuerOf("east").id);
    m.runTo(30 * H);
    for (const [x, y] of [[a, b], [b, c], [c, a]] as const) expect(m.ids.handshake(x, y).ok).toBe(true);
    expect(m.of("identity.handshake-failed")).toHaveLength(0);
  });

  it("is skipped when the new issuer is signed by an anchor outside the bundle", () => {
    const current = m.ids.issuerOf("east").id;
    expect(m.ids.rotateIssuer("east", "root-z")).toEqual({ event: "IssuerUpdateSkipped", reason: "issuer-not-from-trusted-anchor" });
    expect(m.ids.issuerOf("east").id).toBe(current);
  });
});

describe("four-step trust anchor rotation", () => {
  /** Restart pods one at a time (a new pod replaces the old), checking each new one against the rest. */
  function rollout(m: ReturnType<typeof mesh>, pods: Pod[], generation: number, failures: string[]): Pod[] {
    const next = [...pods];
    pods.forEach((old, i) => {
      old.alive = false;
      const fresh = m.start("east", old.label.split("/").at(-1)?.replace(/-\d+$/, `-${generation}`) as string);
      next[i] = fresh;
      for (const peer of next) {
        if (peer === fresh) continue;
        for (const [x, y] of [[fresh, peer], [peer, fresh]] as const) {
          const r = m.ids.handshake(x, y);
          if (!r.ok) failures.push(`${x.label} → ${y.label}: ${r.reason}`);
        }
      }
    });
    return next;
  }

  it("done in order (bundle, restart, new issuer, restart, drop, restart) never breaks a handshake", () => {
    const m = mesh(ONE);
    const failures: string[] = [];
    let pods = [m.start("east", "web-0"), m.start("east", "api-0")];
    const check = (): void => {
      const [x, y] = pods as [Pod, Pod];
      for (const [c, s] of [[x, y], [y, x]] as const) if (!m.ids.handshake(c, s).ok) failures.push(`${c.label} → ${s.label} at ${m.sim.nowUs}`);
    };
    const steps: Array<() => void> = [
      () => m.ids.bundleAnchor("east", "root-new"),
      () => { pods = rollout(m, pods, 1, failures); },
      () => m.ids.issuerFromAnchor("east", "root-new"),
      () => { pods = rollout(m, pods, 2, failures); },
      () => m.ids.dropAnchor("east", "root-a"),
      () => { pods = rollout(m, pods, 3, failures); },
    ];
    steps.forEach((step, i) => {
      m.runTo((i + 1) * H);
      step();
      check();
    });
    m.runTo(3 * 24 * H); // renewals under the final state keep working
    check();
    expect(failures).toEqual([]);
    expect(pods.map((p) => m.ids.certOf(p))).toEqual(pods.map(() => expect.objectContaining({ bundle: ["root-new"], leaf: expect.objectContaining({ anchorId: "root-new" }) })));
    expect(m.ids.diagnostics().filter((d) => d.code.startsWith("identity-proxy"))).toEqual([]);
  });

  describe("skipping the restart after bundling", () => {
    const m = mesh(ONE);
    const a = m.start("east", "web-0");
    const b = m.start("east", "api-0");
    m.runTo(1 * H);
    m.ids.bundleAnchor("east", "root-new");
    m.ids.issuerFromAnchor("east", "root-new");
    const c = m.start("east", "cart-0");

    it("breaks handshakes between an old-bundle proxy and a new-issuer leaf, both ways", () => {
      expect(m.ids.certOf(a).bundle).toEqual(["root-a"]);
      expect(m.ids.certOf(c).leaf?.anchorId).toBe("root-new");
      expect(m.ids.handshake(a, c)).toMatchObject({ ok: false, reason: "server-unknown-trust-anchor:root-new" });
      expect(m.ids.handshake(c, a)).toMatchObject({ ok: false, reason: "client-unknown-trust-anchor:root-new" });
    });

    it("is flagged by the proxy check as a stale trust bundle", () => {
      const stale = m.ids.diagnostics().filter((d) => d.code === "identity-proxy-stale-trust-bundle").map((d) => d.object);
      expect(stale).toEqual(["Pod shop/web-0", "Pod shop/api-0"]);
    });

    it("breaks even proxies that were never restarted once their renewals bring new-issuer leaves", () => {
      expect(m.ids.handshake(a, b).ok).toBe(true);
      m.runTo(seventyPercent(LEAF_US) + 1);
      expect(m.ids.handshake(a, b)).toMatchObject({ ok: false, reason: "server-unknown-trust-anchor:root-new" });
    });
  });
});

describe("restarts and caching", () => {
  it("bumps version on every certificate or bundle change", () => {
    const m = mesh(ONE);
    const v0 = m.ids.version;
    const a = m.start("east", "web-0");
    const v1 = m.ids.version;
    m.ids.bundleAnchor("east", "root-new");
    const v2 = m.ids.version;
    m.runTo(seventyPercent(LEAF_US) + 1);
    expect([v0 < v1, v1 < v2, v2 < m.ids.version]).toEqual([true, true, true]);
    expect(m.ids.certOf(a).bundle).toEqual(["root-a"]);
  });

  it("a restarted proxy reads the bundle again; a dead proxy's renewals stop", () => {
    const m = mesh(ONE);
    const a = m.start("east", "web-0");
    m.ids.bundleAnchor("east", "root-new");
    a.alive = false;
    const again = m.start("east", "web-1");
    m.runTo(2 * 24 * H);
    expect(m.ids.certOf(again).bundle).toEqual(["root-a", "root-new"]);
    expect(m.of("identity.issued", a)).toHaveLength(1);
    expect(m.of("identity.issued", again).length).toBeGreaterThan(1);
  });
});
