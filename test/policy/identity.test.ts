import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_CLOCK_SKEW_ALLOWANCE_US,
  DEFAULT_ISSUANCE_LIFETIME_US,
  checkIdentityCerts,
  checkMtlsHandshake,
  issueLeaf,
  onCertifyResult,
  refreshInUs,
  rotateIssuer,
  verifyPeer,
  type CertRecord,
} from "../../src/policy/identity.js";

const S = 1_000_000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;
const T = 1_000 * DAY; // an arbitrary issuance instant

const anchor: CertRecord = { id: "root-a", issuerId: "root-a", anchorId: "root-a", notBeforeUs: 0, notAfterUs: T + 3650 * DAY };
const issuer: CertRecord = { id: "issuer-1", issuerId: "root-a", anchorId: "root-a", notBeforeUs: 0, notAfterUs: T + 365 * DAY };
const anchors = new Set(["root-a"]);

function leafAt(nowUs: number, iss: CertRecord = issuer, id = "web"): CertRecord {
  const r = issueLeaf({ id, issuer: iss, trustAnchors: anchors, nowUs });
  if (!r.ok) throw new Error(r.reason);
  return r.cert;
}

describe("identity — vector 31", () => {
  it("vector 31: a cert issued at T is valid from T−20s to T+24h+20s and is renewed at T+16h48m14s", () => {
    const cert = leafAt(T);
    expect(cert.notBeforeUs).toBe(T - 20 * S);
    expect(cert.notAfterUs).toBe(T + 24 * H + 20 * S);
    expect(refreshInUs(cert.notAfterUs, T)).toBe(16 * H + 48 * MIN + 14 * S);
  });

  it("vector 31: with the issuer expiring at T+1h the leaf ends at T+1h and is renewed at T+42m", () => {
    const shortIssuer = { ...issuer, notAfterUs: T + 1 * H };
    const r = issueLeaf({ id: "web", issuer: shortIssuer, trustAnchors: anchors, nowUs: T });
    expect(r).toMatchObject({ ok: true, reason: "issued-clamped-to-issuer" });
    if (!r.ok) return;
    expect(r.cert.notAfterUs).toBe(T + 1 * H);
    expect(refreshInUs(r.cert.notAfterUs, T)).toBe(42 * MIN);
  });
});

describe("identity — issuance", () => {
  it("defaults are a 24 h lifetime with 20 s clock skew allowance", () => {
    expect(DEFAULT_ISSUANCE_LIFETIME_US).toBe(24 * H);
    expect(DEFAULT_CLOCK_SKEW_ALLOWANCE_US).toBe(20 * S);
  });

  it("lifetime and skew are configurable", () => {
    const r = issueLeaf({ id: "w", issuer, trustAnchors: anchors, nowUs: T }, { lifetimeUs: 1 * H, clockSkewAllowanceUs: 10 * S });
    expect(r).toMatchObject({ ok: true, cert: { notBeforeUs: T - 10 * S, notAfterUs: T + 1 * H + 10 * S } });
  });

  it("the leaf chains to the issuer and its anchor", () => {
    expect(leafAt(T)).toMatchObject({ id: "web", issuerId: "issuer-1", anchorId: "root-a" });
  });

  it("an expired issuer makes the controller reject CSRs with IssuerValidationFailed", () => {
    const expired = { ...issuer, notAfterUs: T - 1 };
    expect(issueLeaf({ id: "w", issuer: expired, trustAnchors: anchors, nowUs: T })).toEqual({
      ok: false,
      event: "IssuerValidationFailed",
      reason: "issuer-expired",
    });
  });

  it("an issuer whose anchor is no longer trusted cannot issue", () => {
    const r = issueLeaf({ id: "w", issuer, trustAnchors: new Set(["root-b"]), nowUs: T });
    expect(r).toMatchObject({ ok: false, reason: "issuer-not-from-trusted-anchor" });
  });

  it("a leaf never outlives its issuer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 * H }), fc.integer({ min: 1, max: 72 * H }), (issuerLeftUs, lifetimeUs) => {
        const iss = { ...issuer, notAfterUs: T + issuerLeftUs };
        const r = issueLeaf({ id: "w", issuer: iss, trustAnchors: anchors, nowUs: T }, { lifetimeUs });
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.cert.notAfterUs).toBe(Math.min(iss.notAfterUs, T + lifetimeUs + 20 * S));
      }),
    );
  });
});

describe("identity — proxy renewal", () => {
  it.each([
    ["5 s left ⇒ the 10 s floor", T + 5 * S, 10 * S],
    ["100 h left ⇒ the 24 h ceiling", T + 100 * H, 24 * H],
    ["already expired ⇒ the floor", T - 1, 10 * S],
    ["no certificate ⇒ the floor", undefined, 10 * S],
  ])("%s", (_name, expiry, expected) => {
    expect(refreshInUs(expiry, T)).toBe(expected);
  });

  it("a never-certified proxy retries every 10 s", () => {
    const r = onCertifyResult({}, { ok: false, reason: "unavailable" }, T);
    expect(r).toEqual({ state: {}, refreshInUs: 10 * S, reason: "unavailable" });
  });

  it("a failed renewal keeps the old certificate and retries at 70% of what is left", () => {
    const cert = leafAt(T);
    const t1 = T + 16 * H + 48 * MIN + 14 * S;
    const r = onCertifyResult({ cert }, { ok: false, reason: "IssuerValidationFailed" }, t1);
    expect(r.state.cert).toBe(cert);
    expect(r.refreshInUs).toBe(Math.floor(((cert.notAfterUs - t1) * 7) / 10));
  });

  it("repeated failures back off geometrically toward expiry, then every 10 s", () => {
    const cert = leafAt(T);
    let now = T + 16 * H + 48 * MIN + 14 * S;
    const delays: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const r = onCertifyResult({ cert }, { ok: false, reason: "x" }, now);
      delays.push(r.refreshInUs);
      now += r.refreshInUs;
    }
    for (let i = 1; i < delays.length; i += 1) expect(delays[i]).toBeLessThanOrEqual(delays[i - 1] ?? 0);
    expect(delays[delays.length - 1]).toBe(10 * S);
  });

  it("a successful renewal replaces the certificate and schedules from its expiry", () => {
    const old = leafAt(T);
    const t1 = T + 16 * H;
    const fresh = leafAt(t1);
    const r = onCertifyResult({ cert: old }, { ok: true, cert: fresh }, t1);
    expect(r.state.cert).toBe(fresh);
    expect(r.refreshInUs).toBe(refreshInUs(fresh.notAfterUs, t1));
    expect(r.reason).toBe("certified");
  });

  it("a returned certificate that is already expired is refused like a failure", () => {
    const old = leafAt(T);
    const stale = { ...old, id: "stale", notAfterUs: T + 1 * H };
    const r = onCertifyResult({ cert: old }, { ok: true, cert: stale }, T + 2 * H);
    expect(r.state.cert).toBe(old);
    expect(r.reason).toBe("certificate-already-expired");
  });

  it("the renewal delay is always within [10 s, 24 h]", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10 * DAY, max: 10 * DAY }), (leftUs) => {
        const d = refreshInUs(T + leftUs, T);
        expect(d).toBeGreaterThanOrEqual(10 * S);
        expect(d).toBeLessThanOrEqual(24 * H);
      }),
    );
  });
});

describe("identity — issuer rotation", () => {
  it("an issuer signed by a current anchor is hot-swapped", () => {
    const next = { ...issuer, id: "issuer-2" };
    expect(rotateIssuer(issuer, next, anchors, T)).toEqual({ issuer: next, event: "IssuerUpdated", reason: "issuer-verified" });
  });

  it("an issuer from an untrusted anchor is skipped and the old one stays", () => {
    const foreign = { ...issuer, id: "issuer-b", issuerId: "root-b", anchorId: "root-b" };
    expect(rotateIssuer(issuer, foreign, anchors, T)).toMatchObject({
      issuer,
      event: "IssuerUpdateSkipped",
      reason: "issuer-not-from-trusted-anchor",
    });
  });

  it("an already-expired replacement issuer is skipped", () => {
    const expired = { ...issuer, id: "issuer-2", notAfterUs: T - 1 };
    expect(rotateIssuer(issuer, expired, anchors, T).event).toBe("IssuerUpdateSkipped");
  });

  it("rotation is non-disruptive: leaves from the old and new issuer trust each other", () => {
    const next = { ...issuer, id: "issuer-2" };
    const a = { leaf: leafAt(T, issuer, "a"), issuer };
    const b = { leaf: leafAt(T, next, "b"), issuer: next };
    expect(checkMtlsHandshake({ credentials: a, bundle: anchors }, { credentials: b, bundle: anchors }, T + H).ok).toBe(true);
  });
});

describe("identity — trust", () => {
  const peer = () => ({ leaf: leafAt(T), issuer });

  it("a peer whose chain ends at an anchor in the bundle is trusted", () => {
    expect(verifyPeer(peer(), anchors, T + H)).toEqual({ trusted: true, reason: "trusted" });
  });

  it.each([
    ["a bundle without the peer's anchor", () => verifyPeer(peer(), new Set(["root-b"]), T + H), "unknown-trust-anchor"],
    ["an expired leaf", () => verifyPeer(peer(), anchors, T + 25 * H), "leaf-expired"],
    [
      "an expired issuer",
      () => verifyPeer({ leaf: leafAt(T), issuer: { ...issuer, notAfterUs: T + H } }, anchors, T + 2 * H),
      "issuer-expired",
    ],
    ["a leaf not signed by the presented issuer", () => verifyPeer({ leaf: leafAt(T), issuer: { ...issuer, id: "x" } }, anchors, T), "chain-broken"],
  ])("%s is not trusted", (_name, run, reason) => {
    expect(run()).toEqual({ trusted: false, reason });
  });

  it("a bundle holding old and new anchors trusts peers from either", () => {
    const issuerB = { ...issuer, id: "issuer-b", issuerId: "root-b", anchorId: "root-b" };
    const bundle = new Set(["root-a", "root-b"]);
    const b = issueLeaf({ id: "b", issuer: issuerB, trustAnchors: bundle, nowUs: T });
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(verifyPeer({ leaf: b.cert, issuer: issuerB }, bundle, T).trusted).toBe(true);
    expect(verifyPeer({ leaf: b.cert, issuer: issuerB }, anchors, T).trusted).toBe(false);
  });

  it("the handshake fails on the side whose certificate the other cannot verify", () => {
    const good = { credentials: peer(), bundle: anchors };
    const stale = { credentials: { leaf: leafAt(T - 2 * DAY), issuer }, bundle: anchors };
    expect(checkMtlsHandshake(good, stale, T)).toEqual({ ok: false, reason: "server-leaf-expired", failedSide: "server" });
    expect(checkMtlsHandshake(stale, good, T)).toEqual({ ok: false, reason: "client-leaf-expired", failedSide: "client" });
    expect(checkMtlsHandshake({ bundle: anchors }, good, T)).toMatchObject({ ok: false, reason: "client-not-certified" });
    expect(checkMtlsHandshake(good, good, T)).toEqual({ ok: true, reason: "mtls-established" });
  });
});

describe("identity — linkerd check certificate warnings", () => {
  it("healthy certificates produce no findings", () => {
    expect(checkIdentityCerts({ anchors: [anchor], issuer, proxies: [{ object: "Pod a/b", leaf: leafAt(T), bundle: anchors }] }, T)).toEqual([]);
  });

  it("an anchor or issuer with less than 60 days left is a warning", () => {
    const soon = { ...issuer, notAfterUs: T + 59 * DAY };
    const later = { ...issuer, notAfterUs: T + 61 * DAY };
    expect(checkIdentityCerts({ anchors: [anchor], issuer: soon }, T).map((d) => [d.severity, d.code])).toEqual([
      ["warning", "identity-issuer-expiring-soon"],
    ]);
    expect(checkIdentityCerts({ anchors: [anchor], issuer: later }, T)).toEqual([]);
    const anchorSoon = { ...anchor, notAfterUs: T + 30 * DAY };
    expect(checkIdentityCerts({ anchors: [anchorSoon], issuer }, T)[0]).toMatchObject({
      severity: "warning",
      code: "identity-anchor-expiring-soon",
      object: "ConfigMap linkerd/linkerd-identity-trust-roots",
    });
  });

  it("an expired issuer is an error that names the consequence", () => {
    const d = checkIdentityCerts({ anchors: [anchor], issuer: { ...issuer, notAfterUs: T - 1 } }, T);
    expect(d[0]).toMatchObject({ severity: "error", code: "identity-issuer-not-time-valid", object: "Secret linkerd/linkerd-identity-issuer" });
    expect(d[0]?.message).toMatch(/rejects every CSR/);
  });

  it("an issuer not from a current anchor is an error", () => {
    const d = checkIdentityCerts({ anchors: [anchor], issuer: { ...issuer, anchorId: "root-b" } }, T);
    expect(d.map((x) => x.code)).toEqual(["identity-issuer-not-from-anchor"]);
  });

  it("proxies with a stale bundle, an overdue renewal or an expired leaf are reported", () => {
    const leaf = leafAt(T);
    const d = checkIdentityCerts(
      {
        anchors: [anchor],
        issuer,
        proxies: [
          { object: "Pod a/stale", leaf, bundle: new Set(["root-old"]) },
          { object: "Pod a/overdue", leaf },
          { object: "Pod a/expired", leaf: { ...leaf, notAfterUs: T + 20 * H } },
        ],
      },
      T + 20 * H + 1,
    );
    expect(d.map((x) => [x.object, x.severity, x.code])).toEqual([
      ["Pod a/stale", "warning", "identity-proxy-stale-trust-bundle"],
      ["Pod a/stale", "warning", "identity-proxy-cert-renewal-overdue"],
      ["Pod a/overdue", "warning", "identity-proxy-cert-renewal-overdue"],
      ["Pod a/expired", "error", "identity-proxy-cert-expired"],
    ]);
  });
});
