// Linkerd identity across a simulated world: trust anchors, one issuer per cluster (the identity
// controller), and a leaf certificate per proxy that the proxy renews on the `refresh_in` schedule.
// Every decision (issuance, renewal timing, issuer reload, peer verification, `linkerd check`) is
// `src/policy/identity.ts`; this file only keeps the state and the timers. Proxies read their
// cluster's trust bundle at startup only, so bundle changes reach a proxy when it is restarted.
// A proxy presents the issuer certificate it was handed with its leaf (a snapshot), so an issuer
// expiry fault refuses CSRs at once but breaks handshakes only as the leaves run out — and a
// handshake is made once per connection (connection.ts), so an expired leaf breaks traffic only
// where a connection has to be made again.

import { type Diagnostic, objectRef } from "../policy/diagnostics.js";
import {
  type CertRecord,
  type CertifyOutcome,
  type HandshakeSide,
  type ProxyIdentityState,
  DEFAULT_CLOCK_SKEW_ALLOWANCE_US,
  DEFAULT_ISSUANCE_LIFETIME_US,
  checkIdentityCerts,
  checkMtlsHandshake,
  issueLeaf,
  onCertifyResult,
  rotateIssuer as decideIssuerRotation,
} from "../policy/identity.js";
import { Priority } from "../sim/priority.js";
import type { Simulation } from "../sim/simulation.js";

const DAY_US = 86_400_000_000;

export interface IdentityHost {
  sim: Simulation;
  emit(kind: string, fields: Record<string, string | number | boolean | null>): void;
}

export interface ProxyRef {
  readonly label: string;
  readonly alive: boolean;
  readonly cluster: string;
  readonly identity: string;
}

export interface IdentityOptions {
  /** Leaf lifetime (`identity.issuer.issuanceLifetime`), µs. Default 24 h. */
  leafLifetimeUs?: number;
  /** `identity.issuer.clockSkewAllowance`, added on both ends of a leaf's validity, µs. Default 20 s. */
  clockSkewAllowanceUs?: number;
  /** Validity of the issuers and anchors that exist at t=0 (from 0), and of those created later (from their creation), µs. Default 365 days. */
  issuerValidityUs?: number;
}

/** What `handshake` answers; `code` is `reason` without the anchor named by trust failures. */
export interface HandshakeResult {
  ok: boolean;
  reason: string;
  code: string;
}

interface ClusterIdentity {
  readonly name: string;
  /** The trust roots ConfigMap: what new proxies and the identity controller trust. */
  bundle: string[];
  /** The identity controller's current issuer. */
  issuer: CertRecord;
}

interface ProxyState {
  readonly proxy: ProxyRef;
  readonly cluster: ClusterIdentity;
  /** The bundle read at startup, as a list (for reports) and a set (for verification). */
  readonly bundle: readonly string[];
  readonly side: HandshakeSide;
  identity: ProxyIdentityState;
  certified: boolean;
}

const UNKNOWN_SIDE: HandshakeSide = { bundle: new Set<string>() };
const HANDSHAKE_OK: HandshakeResult = { ok: true, reason: "mtls-established", code: "mtls-established" };

export class IdentitySystem {
  /** Increments whenever a certificate, issuer or bundle changes or a leaf expires: anything that may change what `handshake` answers. */
  version = 0;
  private readonly clusters = new Map<string, ClusterIdentity>();
  private readonly anchors = new Map<string, CertRecord>();
  private readonly proxies = new Map<string, ProxyState>();
  private readonly lifetimeUs: number;
  private readonly skewUs: number;
  private readonly validityUs: number;
  private leafSerial = 0;
  private issuerSerial = 0;

  constructor(
    private readonly host: IdentityHost,
    clusters: Array<{ name: string; trustAnchor: string }>,
    opts: IdentityOptions = {},
  ) {
    this.lifetimeUs = opts.leafLifetimeUs ?? DEFAULT_ISSUANCE_LIFETIME_US;
    this.skewUs = opts.clockSkewAllowanceUs ?? DEFAULT_CLOCK_SKEW_ALLOWANCE_US;
    this.validityUs = opts.issuerValidityUs ?? 365 * DAY_US;
    for (const c of clusters) {
      const anchor = this.anchor(c.trustAnchor);
      this.clusters.set(c.name, { name: c.name, bundle: [anchor.id], issuer: this.newIssuer(c.name, anchor.id) });
    }
  }

  private get nowUs(): number {
    return this.host.sim.nowUs;
  }

  /** A proxy starts: reads its cluster's bundle now and asks for a leaf right away. */
  proxyStarted(proxy: ProxyRef): void {
    const cluster = this.cluster(proxy.cluster);
    const bundle = [...cluster.bundle];
    const state: ProxyState = { proxy, cluster, bundle, side: { bundle: new Set(bundle) }, identity: {}, certified: false };
    this.proxies.set(proxy.label, state);
    this.version += 1;
    this.certify(state);
  }

  /** One certification attempt (CSR to the cluster's issuer), then the next one scheduled. */
  private certify(state: ProxyState): void {
    if (this.proxies.get(state.proxy.label) !== state) return; // restarted under the same label
    const nowUs = this.nowUs;
    const cluster = state.cluster;
    const issuer = cluster.issuer;
    this.leafSerial += 1;
    const issued = issueLeaf(
      { id: `leaf/${state.proxy.identity}/${this.leafSerial}`, issuer, trustAnchors: new Set(cluster.bundle), nowUs },
      { lifetimeUs: this.lifetimeUs, clockSkewAllowanceUs: this.skewUs },
    );
    const outcome: CertifyOutcome = issued.ok ? { ok: true, cert: issued.cert } : { ok: false, reason: issued.reason };
    const next = onCertifyResult(state.identity, outcome, nowUs);
    const renewal = state.certified;
    const base = { proxy: state.proxy.label, cluster: cluster.name, identity: state.proxy.identity, renewal, refreshInUs: next.refreshInUs };
    if (next.reason === "certified" && issued.ok) {
      state.identity = next.state;
      state.certified = true;
      state.side.credentials = { leaf: issued.cert, issuer };
      this.version += 1;
      this.host.emit("identity.issued", {
        ...base, reason: issued.reason, leaf: issued.cert.id, issuer: issuer.id, anchor: issuer.anchorId,
        notBeforeUs: issued.cert.notBeforeUs, notAfterUs: issued.cert.notAfterUs,
      });
      // Expiry changes handshake answers without any other change: make it bump `version` too.
      this.host.sim.scheduleAt(issued.cert.notAfterUs + 1, (s) => this.leafExpired(s, issued.cert), state, Priority.World, state.proxy);
    } else {
      const held = state.identity.cert;
      this.host.emit("identity.refresh-failed", {
        ...base, reason: next.reason, issuer: issuer.id, heldLeaf: held?.id ?? null, heldNotAfterUs: held?.notAfterUs ?? null,
      });
    }
    this.host.sim.schedule(next.refreshInUs, (s) => this.certify(s), state, Priority.Control, state.proxy);
  }

  private leafExpired(state: ProxyState, leaf: CertRecord): void {
    if (this.proxies.get(state.proxy.label) !== state || state.identity.cert !== leaf) return;
    this.version += 1;
    this.host.emit("identity.leaf-expired", { proxy: state.proxy.label, cluster: state.cluster.name, leaf: leaf.id, reason: "not-renewed" });
  }

  /**
   * The mTLS handshake of a new connection from `client` to `server`, now; connection.ts calls it
   * once per connection it sets up. Failures are traced.
   */
  handshake(client: ProxyRef, server: ProxyRef): HandshakeResult {
    const c = this.proxies.get(client.label);
    const s = this.proxies.get(server.label);
    const r = checkMtlsHandshake(c?.side ?? UNKNOWN_SIDE, s?.side ?? UNKNOWN_SIDE, this.nowUs);
    if (r.ok) return HANDSHAKE_OK;
    const peer = r.failedSide === "server" ? s : c;
    // Only trust failures have an anchor worth naming: the one the verifier does not know.
    const anchor = r.reason.endsWith("unknown-trust-anchor") ? (peer?.side.credentials?.issuer.anchorId ?? null) : null;
    this.host.emit("identity.handshake-failed", {
      client: client.label, server: server.label, reason: r.reason, side: r.failedSide ?? null, anchor,
    });
    return { ok: false, reason: anchor === null ? r.reason : `${r.reason}:${anchor}`, code: r.reason };
  }

  /** The cluster's issuer reaches its expiry now: CSRs are refused from now on; leaves run out at their own NotAfter. */
  expireIssuer(cluster: string): void {
    const c = this.cluster(cluster);
    c.issuer = { ...c.issuer, notAfterUs: this.nowUs };
    this.version += 1;
    this.host.emit("identity.issuer-expired", { cluster, issuer: c.issuer.id, reason: "issuer-expired" });
  }

  /** Load a new issuer signed by `anchorId` (default: the current issuer's anchor), if it verifies against the bundle. */
  rotateIssuer(cluster: string, anchorId?: string): { event: string; reason: string } {
    const c = this.cluster(cluster);
    const candidate = this.newIssuer(cluster, this.anchor(anchorId ?? c.issuer.anchorId).id);
    const decision = decideIssuerRotation(c.issuer, candidate, new Set(c.bundle), this.nowUs);
    const fields = { cluster, event: decision.event, reason: decision.reason, issuer: candidate.id, anchor: candidate.anchorId, previous: c.issuer.id };
    if (decision.event === "IssuerUpdated") {
      c.issuer = decision.issuer;
      this.version += 1;
      this.host.emit("identity.issuer-rotated", fields);
    } else {
      this.host.emit("identity.issuer-update-skipped", fields);
    }
    return { event: decision.event, reason: decision.reason };
  }

  /** Anchor rotation steps 1–2: the bundle becomes {old…, new}; each proxy sees it when it restarts. */
  bundleAnchor(cluster: string, newAnchor: string): void {
    const c = this.cluster(cluster);
    if (!c.bundle.includes(newAnchor)) c.bundle = [...c.bundle, this.anchor(newAnchor).id];
    this.bundleChanged(c, "anchor-bundled");
  }

  /** Anchor rotation step 3: a new issuer signed by `anchor` (accepted only if the bundle has it). */
  issuerFromAnchor(cluster: string, anchor: string): void {
    this.rotateIssuer(cluster, anchor);
  }

  /** Anchor rotation step 4: the bundle drops `oldAnchor`; each proxy sees it when it restarts. */
  dropAnchor(cluster: string, oldAnchor: string): void {
    const c = this.cluster(cluster);
    c.bundle = c.bundle.filter((a) => a !== oldAnchor);
    this.bundleChanged(c, "anchor-dropped");
  }

  /** The cluster's anchor and issuer become `anchor` and a fresh issuer from it; new proxies get them. */
  replaceAnchor(cluster: string, anchor: string): void {
    const c = this.cluster(cluster);
    c.bundle = [this.anchor(anchor).id];
    c.issuer = this.newIssuer(cluster, anchor);
    this.bundleChanged(c, "anchor-replaced");
    this.host.emit("identity.issuer-rotated", { cluster, event: "IssuerUpdated", reason: "anchor-replaced", issuer: c.issuer.id, anchor, previous: null });
  }

  private bundleChanged(c: ClusterIdentity, reason: string): void {
    this.version += 1;
    this.host.emit("identity.bundle-updated", { cluster: c.name, anchors: c.bundle.join(","), reason });
  }

  /** `linkerd check` / `check --proxy` certificate diagnostics for every cluster and live proxy, now. */
  diagnostics(): Diagnostic[] {
    for (const [label, p] of this.proxies) if (!p.proxy.alive) this.proxies.delete(label);
    const out: Diagnostic[] = [];
    for (const c of this.clusters.values()) {
      const proxies = [...this.proxies.values()].filter((p) => p.cluster === c).map((p) => ({
        object: podRef(p.proxy.label),
        bundle: p.side.bundle,
        ...(p.identity.cert === undefined ? {} : { leaf: p.identity.cert }),
      }));
      const anchors = c.bundle.map((id) => this.anchor(id));
      for (const d of checkIdentityCerts({ anchors, issuer: c.issuer, proxies }, this.nowUs)) {
        out.push({ ...d, message: `cluster ${c.name}: ${d.message}` });
      }
    }
    return out;
  }

  /** A proxy's current leaf (absent before its first certification) and the bundle it started with. */
  certOf(proxy: ProxyRef): { leaf?: CertRecord; bundle: string[] } {
    const p = this.proxies.get(proxy.label);
    if (p === undefined) return { bundle: [] };
    const leaf = p.identity.cert;
    return leaf === undefined ? { bundle: [...p.bundle] } : { leaf, bundle: [...p.bundle] };
  }

  /** The cluster's current issuer (after faults and rotations). */
  issuerOf(cluster: string): CertRecord {
    return this.cluster(cluster).issuer;
  }

  /** The cluster's current trust bundle: what a proxy starting now reads. */
  bundleOf(cluster: string): string[] {
    return [...this.cluster(cluster).bundle];
  }

  private cluster(name: string): ClusterIdentity {
    const c = this.clusters.get(name);
    if (c === undefined) throw new Error(`identity: unknown cluster ${name}`);
    return c;
  }

  /** The anchor with this id, created valid from now on first mention (anchors are shared by id). */
  private anchor(id: string): CertRecord {
    let a = this.anchors.get(id);
    if (a === undefined) {
      a = { id, issuerId: id, anchorId: id, notBeforeUs: this.nowUs, notAfterUs: this.nowUs + this.validityUs };
      this.anchors.set(id, a);
    }
    return a;
  }

  private newIssuer(cluster: string, anchorId: string): CertRecord {
    this.issuerSerial += 1;
    return { id: `issuer/${cluster}/${this.issuerSerial}`, issuerId: anchorId, anchorId, notBeforeUs: this.nowUs, notAfterUs: this.nowUs + this.validityUs };
  }
}

/** `pod/<cluster>/<ns>/<name>` (the pod's trace label) as `Pod ns/name`; other labels as they are. */
function podRef(label: string): string {
  const parts = label.split("/");
  return parts.length === 4 && parts[0] === "pod" ? objectRef("Pod", parts[2], parts[3] as string) : label;
}
