// Linkerd identity: leaf issuance, proxy renewal timing, issuer rotation, mTLS trust checks and the
// `linkerd check` certificate-expiry checks. Mirrors linkerd2 `pkg/tls/ca.go` (Validity.Window,
// createTemplate clamping), `pkg/identity/service.go` (Certify, issuer reload) and the identity
// checks in `pkg/healthcheck`, plus linkerd2-proxy `linkerd/proxy/identity-client/src/certify.rs`
// (`refresh_in`). Deliberate differences: certificates are small records linked by id instead of
// X.509, trust is "the chain's anchor is in the bundle", and time is a parameter.

import { type Diagnostic, objectRef } from "./diagnostics.js";

const S = 1_000_000;
const DAY_US = 86_400 * S;

/** `identity.issuer.issuanceLifetime` default (24h0m0s). */
export const DEFAULT_ISSUANCE_LIFETIME_US = 24 * 3600 * S;
/** `identity.issuer.clockSkewAllowance` Helm default (the `pkg/tls` fallback is 10 s). */
export const DEFAULT_CLOCK_SKEW_ALLOWANCE_US = 20 * S;
/** Proxy `LINKERD2_PROXY_IDENTITY_MIN_REFRESH` / `MAX_REFRESH` defaults. */
export const DEFAULT_MIN_REFRESH_US = 10 * S;
export const DEFAULT_MAX_REFRESH_US = 24 * 3600 * S;
/** `linkerd check` warns when an anchor or the issuer expires within this. */
export const EXPIRY_WARNING_US = 60 * DAY_US;

/** A certificate reduced to what trust decisions need. */
export interface CertRecord {
  id: string;
  /** Id of the signer; an anchor (self-signed root) names itself. */
  issuerId: string;
  /** Id of the trust anchor at the root of this certificate's chain. */
  anchorId: string;
  notBeforeUs: number;
  notAfterUs: number;
}

/** Valid at `nowUs` (both ends inclusive, as Go's and webpki's checks are). */
export function isTimeValid(cert: CertRecord, nowUs: number): boolean {
  return cert.notBeforeUs <= nowUs && nowUs <= cert.notAfterUs;
}

/** Is this issuer usable now: time-valid and chaining to one of the trust anchors? */
export function validateIssuer(
  issuer: CertRecord,
  trustAnchors: ReadonlySet<string>,
  nowUs: number,
): { ok: boolean; reason: string } {
  if (nowUs > issuer.notAfterUs) return { ok: false, reason: "issuer-expired" };
  if (nowUs < issuer.notBeforeUs) return { ok: false, reason: "issuer-not-yet-valid" };
  if (!trustAnchors.has(issuer.anchorId)) return { ok: false, reason: "issuer-not-from-trusted-anchor" };
  return { ok: true, reason: "issuer-valid" };
}

export interface IssuanceOptions {
  /** Leaf lifetime, µs. Default 24 h. */
  lifetimeUs?: number;
  /** Added before NotBefore and after NotAfter, µs. Default 20 s. */
  clockSkewAllowanceUs?: number;
}

export type IssueResult =
  | { ok: true; cert: CertRecord; reason: "issued" | "issued-clamped-to-issuer" }
  | { ok: false; event: "IssuerValidationFailed"; reason: string };

/**
 * The identity controller answering a CSR at `nowUs`: NotBefore = now − skew, NotAfter = now +
 * lifetime + skew, clamped to the issuer's expiry so a leaf never outlives its issuer.
 */
export function issueLeaf(
  req: { id: string; issuer: CertRecord; trustAnchors: ReadonlySet<string>; nowUs: number },
  opts: IssuanceOptions = {},
): IssueResult {
  const valid = validateIssuer(req.issuer, req.trustAnchors, req.nowUs);
  if (!valid.ok) return { ok: false, event: "IssuerValidationFailed", reason: valid.reason };
  const skewUs = opts.clockSkewAllowanceUs ?? DEFAULT_CLOCK_SKEW_ALLOWANCE_US;
  const wantedNotAfterUs = req.nowUs + (opts.lifetimeUs ?? DEFAULT_ISSUANCE_LIFETIME_US) + skewUs;
  const clamped = req.issuer.notAfterUs < wantedNotAfterUs;
  return {
    ok: true,
    cert: {
      id: req.id,
      issuerId: req.issuer.id,
      anchorId: req.issuer.anchorId,
      notBeforeUs: req.nowUs - skewUs,
      notAfterUs: clamped ? req.issuer.notAfterUs : wantedNotAfterUs,
    },
    reason: clamped ? "issued-clamped-to-issuer" : "issued",
  };
}

export interface RefreshOptions {
  /** Floor of the renewal delay, µs. Default 10 s. */
  minRefreshUs?: number;
  /** Ceiling of the renewal delay, µs. Default 24 h. */
  maxRefreshUs?: number;
}

/**
 * Proxy `refresh_in`: 70% of the time left until `expiryUs`, clamped to [min, max]. No expiry
 * (never certified) or an expiry already past ⇒ the minimum.
 */
export function refreshInUs(expiryUs: number | undefined, nowUs: number, opts: RefreshOptions = {}): number {
  const minUs = opts.minRefreshUs ?? DEFAULT_MIN_REFRESH_US;
  const maxUs = opts.maxRefreshUs ?? DEFAULT_MAX_REFRESH_US;
  if (expiryUs === undefined || expiryUs < nowUs) return minUs;
  const seventyPercentUs = Math.floor(((expiryUs - nowUs) * 7) / 10);
  return Math.min(maxUs, Math.max(minUs, seventyPercentUs));
}

/** What a proxy's identity client holds between certification attempts. */
export interface ProxyIdentityState {
  /** Current leaf; absent until the first successful certification. */
  cert?: CertRecord;
}

export type CertifyOutcome = { ok: true; cert: CertRecord } | { ok: false; reason: string };

/**
 * Apply one certification attempt. On failure the old certificate (and so its expiry) is kept, so
 * retries come at 70% of the remaining time — geometric toward the deadline, never below 10 s.
 */
export function onCertifyResult(
  state: ProxyIdentityState,
  outcome: CertifyOutcome,
  nowUs: number,
  opts: RefreshOptions = {},
): { state: ProxyIdentityState; refreshInUs: number; reason: string } {
  if (outcome.ok && outcome.cert.notAfterUs > nowUs) {
    return { state: { cert: outcome.cert }, refreshInUs: refreshInUs(outcome.cert.notAfterUs, nowUs, opts), reason: "certified" };
  }
  // The proxy refuses a certificate that is already expired, exactly as if the call had failed.
  const reason = outcome.ok ? "certificate-already-expired" : outcome.reason;
  return { state, refreshInUs: refreshInUs(state.cert?.notAfterUs, nowUs, opts), reason };
}

/**
 * The identity controller reloading its issuer secret: the new issuer is hot-swapped only if it
 * verifies against the current anchors now; otherwise the old one stays in use.
 */
export function rotateIssuer(
  current: CertRecord,
  candidate: CertRecord,
  trustAnchors: ReadonlySet<string>,
  nowUs: number,
): { issuer: CertRecord; event: "IssuerUpdated" | "IssuerUpdateSkipped"; reason: string } {
  const valid = validateIssuer(candidate, trustAnchors, nowUs);
  if (!valid.ok) return { issuer: current, event: "IssuerUpdateSkipped", reason: valid.reason };
  return { issuer: candidate, event: "IssuerUpdated", reason: "issuer-verified" };
}

/** What one side of a connection presents: its leaf and the issuer it was signed by. */
export interface PeerCredentials {
  leaf: CertRecord;
  issuer: CertRecord;
}

/** Does a verifier holding `bundle` (anchor ids, read at proxy start) trust this peer now? */
export function verifyPeer(
  peer: PeerCredentials,
  bundle: ReadonlySet<string>,
  nowUs: number,
): { trusted: boolean; reason: string } {
  if (nowUs > peer.leaf.notAfterUs) return { trusted: false, reason: "leaf-expired" };
  if (nowUs < peer.leaf.notBeforeUs) return { trusted: false, reason: "leaf-not-yet-valid" };
  if (peer.leaf.issuerId !== peer.issuer.id) return { trusted: false, reason: "chain-broken" };
  if (nowUs > peer.issuer.notAfterUs) return { trusted: false, reason: "issuer-expired" };
  if (nowUs < peer.issuer.notBeforeUs) return { trusted: false, reason: "issuer-not-yet-valid" };
  if (!bundle.has(peer.issuer.anchorId)) return { trusted: false, reason: "unknown-trust-anchor" };
  return { trusted: true, reason: "trusted" };
}

export interface HandshakeSide {
  /** Absent ⇒ this proxy has never been certified. */
  credentials?: PeerCredentials;
  bundle: ReadonlySet<string>;
}

/** A meshed mTLS handshake: the client verifies the server, then the server verifies the client. */
export function checkMtlsHandshake(
  client: HandshakeSide,
  server: HandshakeSide,
  nowUs: number,
): { ok: boolean; reason: string; failedSide?: "client" | "server" } {
  if (server.credentials === undefined) return { ok: false, reason: "server-not-certified", failedSide: "server" };
  const serverCheck = verifyPeer(server.credentials, client.bundle, nowUs);
  if (!serverCheck.trusted) return { ok: false, reason: `server-${serverCheck.reason}`, failedSide: "server" };
  if (client.credentials === undefined) return { ok: false, reason: "client-not-certified", failedSide: "client" };
  const clientCheck = verifyPeer(client.credentials, server.bundle, nowUs);
  if (!clientCheck.trusted) return { ok: false, reason: `client-${clientCheck.reason}`, failedSide: "client" };
  return { ok: true, reason: "mtls-established" };
}

// --- `linkerd check` / `linkerd check --proxy` certificate checks --------------------------------

const ANCHORS_REF = objectRef("ConfigMap", "linkerd", "linkerd-identity-trust-roots");
const ANCHORS_FIELD = 'data["ca-bundle.crt"]';
const ISSUER_REF = objectRef("Secret", "linkerd", "linkerd-identity-issuer");
const ISSUER_FIELD = 'data["tls.crt"]';

export interface IdentityCheckInput {
  anchors: readonly CertRecord[];
  issuer: CertRecord;
  /** Meshed proxies: `object` names the pod (`Pod ns/name`); `bundle` is the anchor set it started with. */
  proxies?: ReadonlyArray<{ object: string; leaf?: CertRecord; bundle?: ReadonlySet<string> }>;
}

/**
 * The certificate checks of `linkerd check` (anchors and issuer: within validity ⇒ error, < 60 days
 * left ⇒ warning, issuer not from an anchor ⇒ error) and `--proxy` (a pod started with another
 * trust bundle ⇒ warning). Leaf checks are meshsim's own: expired ⇒ error; less than 30% of its
 * validity left, i.e. past the point where the proxy should have renewed it ⇒ warning.
 */
export function checkIdentityCerts(input: IdentityCheckInput, nowUs: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const anchorIds = new Set(input.anchors.map((a) => a.id));
  for (const a of input.anchors) {
    out.push(...caExpiry(a, "trust anchor", "identity-anchor", ANCHORS_REF, ANCHORS_FIELD, nowUs,
      "every proxy rejects peers whose certificates chain to it, so mTLS fails mesh-wide"));
  }
  out.push(...caExpiry(input.issuer, "issuer certificate", "identity-issuer", ISSUER_REF, ISSUER_FIELD, nowUs,
    "the identity controller rejects every CSR (IssuerValidationFailed); proxy certificates run out within 24 h and then mTLS handshakes fail"));
  if (!anchorIds.has(input.issuer.anchorId)) {
    out.push({ severity: "error", code: "identity-issuer-not-from-anchor", object: ISSUER_REF, field: ISSUER_FIELD,
      message: `issuer ${input.issuer.id} is not issued by a current trust anchor: the identity controller refuses to load it, so no proxy can be certified.` });
  }
  for (const p of input.proxies ?? []) out.push(...proxyChecks(p, anchorIds, nowUs));
  return out;
}

function caExpiry(
  cert: CertRecord, what: string, code: string, object: string, field: string, nowUs: number, consequence: string,
): Diagnostic[] {
  if (!isTimeValid(cert, nowUs)) {
    const when = nowUs > cert.notAfterUs ? "has expired" : "is not valid yet";
    return [{ severity: "error", code: `${code}-not-time-valid`, object, field, message: `${what} ${cert.id} ${when}: ${consequence}.` }];
  }
  if (cert.notAfterUs - nowUs < EXPIRY_WARNING_US) {
    return [{ severity: "warning", code: `${code}-expiring-soon`, object, field,
      message: `${what} ${cert.id} expires in ${days(cert.notAfterUs - nowUs)} (under 60 days): rotate it before then, or ${consequence}.` }];
  }
  return [];
}

function proxyChecks(
  p: { object: string; leaf?: CertRecord; bundle?: ReadonlySet<string> },
  anchorIds: ReadonlySet<string>,
  nowUs: number,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const field = "linkerd-proxy identity";
  if (p.bundle !== undefined && !sameSet(p.bundle, anchorIds)) {
    out.push({ severity: "warning", code: "identity-proxy-stale-trust-bundle", object: p.object, field,
      message: "this proxy started with a different trust bundle than the current trust anchors; proxies read anchors only at startup, so restart the workload." });
  }
  if (p.leaf === undefined) return out;
  if (nowUs > p.leaf.notAfterUs) {
    out.push({ severity: "error", code: "identity-proxy-cert-expired", object: p.object, field,
      message: `leaf certificate ${p.leaf.id} has expired: this proxy's new mTLS connections fail until it is re-certified.` });
  } else if ((p.leaf.notAfterUs - nowUs) * 10 < (p.leaf.notAfterUs - p.leaf.notBeforeUs) * 3) {
    out.push({ severity: "warning", code: "identity-proxy-cert-renewal-overdue", object: p.object, field,
      message: `leaf certificate ${p.leaf.id} expires in ${days(p.leaf.notAfterUs - nowUs)} and should already have been renewed (proxies renew at 70% of the remaining validity): renewal is probably failing.` });
  }
  return out;
}

function days(us: number): string {
  return us >= DAY_US ? `${(us / DAY_US).toFixed(1)} days` : `${(us / (3600 * S)).toFixed(1)} hours`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
