// The messages that travel through the simulated mesh. A response is delivered as one event
// (headers and body together); an error stands for a response the proxy synthesised.

import { GRPC_CONTENT_TYPE, type GrpcStatusPlace, isGrpcContentType, type ResponseOutcome } from "../policy/classify.js";
import type { ProxyErrorKind } from "../policy/request-timeouts.js";
import type { CallSpec } from "./spec.js";

/** The end-user request a chain of calls serves; side effects are counted against it. */
export interface Origin {
  readonly id: number;
  /** Name of the traffic generator that issued it. */
  readonly traffic: string;
  /** Executions of side-effecting routes, by `server route`; created on first use. */
  sideEffects?: Map<string, number>;
}

export interface HttpRequest {
  readonly method: string;
  /** Path with any query string. */
  readonly path: string;
  /** `host[:port]` as the client addressed it. */
  readonly authority: string;
  readonly bodyBytes: number;
  /**
   * Request headers by lower-case name, one value each; absent ⇒ none. A gRPC request carries
   * `content-type: application/grpc`, which is what Linkerd's classifier looks at.
   */
  readonly headers?: Readonly<Record<string, string>>;
  readonly origin: Origin;
  /** Set once the client side has answered it; the invariant checker flags a second end. */
  endedAtUs?: number;
}

export interface HttpResponse {
  status: number;
  /** Set when the proxy produced this response for an error instead of relaying one. */
  error?: ProxyErrorKind;
  /** Where the response came from, for traces: `app`, `proxy`, `kubelet`... */
  from?: string;
  /** The response's `grpc-status`; absent ⇒ it carried none. */
  grpcStatus?: number;
  /** Where `grpcStatus` travelled (see `GrpcStatusPlace`); absent ⇒ `headers`. */
  grpcStatusIn?: GrpcStatusPlace;
}

export type Respond = (response: HttpResponse) => void;

/** Parse `http://host[:port][/path]` into authority parts; undefined if it is not such a URL. */
export function parseHttpUrl(url: string): { host: string; port: number; path: string } | undefined {
  const m = /^http:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/.exec(url);
  if (m === null) return undefined;
  return { host: (m[1] as string).toLowerCase(), port: m[2] === undefined ? 80 : Number(m[2]), path: m[3] ?? "/" };
}

/** The port of an authority `host[:port]` (default 80), without building the host. */
export function authorityPort(authority: string): number {
  const i = authority.lastIndexOf(":");
  return i < 0 ? 80 : Number(authority.slice(i + 1));
}

/** Split an authority `host[:port]` (default port 80). */
export function splitAuthority(authority: string): { host: string; port: number } {
  const i = authority.lastIndexOf(":");
  if (i < 0) return { host: authority.toLowerCase(), port: 80 };
  return { host: authority.slice(0, i).toLowerCase(), port: Number(authority.slice(i + 1)) };
}

/**
 * The Service a host names from a pod in `clientNamespace`, as cluster DNS resolves it:
 * `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`.
 */
export function serviceForHost(host: string, clientNamespace: string, domain: string): { name: string; namespace: string } | undefined {
  const full = host.endsWith(".") ? host.slice(0, -1) : host;
  const suffix = `.svc.${domain}`;
  const trimmed = full.endsWith(suffix) ? full.slice(0, -suffix.length) : full.endsWith(".svc") ? full.slice(0, -4) : full;
  const parts = trimmed.split(".");
  if (parts.length === 1) return { name: parts[0] as string, namespace: clientNamespace };
  if (parts.length === 2) return { name: parts[0] as string, namespace: parts[1] as string };
  return undefined;
}

/** Whether Linkerd's classifier treats the request as gRPC: its content-type starts with `application/grpc`. */
export function isGrpcRequest(request: HttpRequest): boolean {
  return isGrpcContentType(request.headers?.["content-type"]);
}

const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A request path split at `?`: the path routes match on, and the query parameters decoded as
 * `application/x-www-form-urlencoded` (`+` is a space), as linkerd2-proxy's query-param match reads
 * them. Difference: one value per name (the first), where upstream lets any repeat match.
 */
export function splitQuery(pathWithQuery: string): { path: string; query: Readonly<Record<string, string>> } {
  const q = pathWithQuery.indexOf("?");
  if (q < 0) return { path: pathWithQuery, query: NO_QUERY };
  const query: Record<string, string> = {};
  for (const part of pathWithQuery.slice(q + 1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeQueryPart(eq < 0 ? part : part.slice(0, eq));
    if (!Object.hasOwn(query, name)) query[name] = decodeQueryPart(eq < 0 ? "" : part.slice(eq + 1));
  }
  return { path: pathWithQuery.slice(0, q), query };
}

function decodeQueryPart(s: string): string {
  const spaced = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Header names as HTTP/2 sends them: lower-case. */
export function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * The headers a client sends: `headers` as written, plus `content-type: application/grpc` when it
 * speaks gRPC and set none itself. Undefined when there are none.
 */
export function clientHeaders(headers: Readonly<Record<string, string>> | undefined, grpc: boolean): Readonly<Record<string, string>> | undefined {
  const out: Record<string, string> = { ...headers };
  if (grpc && out["content-type"] === undefined) out["content-type"] = GRPC_CONTENT_TYPE;
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The headers of a downstream call made while serving `parent`: the parent's headers the call
 * forwards (never its content-type: the call's own protocol decides that), then the call's own.
 */
export function callHeaders(spec: CallSpec, parent: HttpRequest, grpc: boolean): Readonly<Record<string, string>> | undefined {
  const forward = spec.forwardHeaders ?? false;
  const copied: Record<string, string> = {};
  if (forward !== false && parent.headers !== undefined) {
    for (const [name, value] of Object.entries(parent.headers)) {
      if (name !== "content-type" && (forward === true || forward.includes(name))) copied[name] = value;
    }
  }
  return clientHeaders({ ...copied, ...spec.headers }, grpc);
}

/**
 * Whether a downstream call failed in the eyes of the app that made it: an error, a 5xx, or a
 * grpc-status other than OK. (A real gRPC client also fails a stream that ends without any
 * grpc-status; here such an answer counts by its HTTP status.)
 */
export function callFailed(res: HttpResponse): boolean {
  return res.error !== undefined || res.status >= 500 || (res.grpcStatus !== undefined && res.grpcStatus !== 0);
}

/** A response as the proxy's classifier sees it (src/policy/classify.ts), for the request it answers. */
export function responseOutcome(request: HttpRequest, res: HttpResponse): ResponseOutcome {
  const outcome: ResponseOutcome = { status: res.status, isGrpc: isGrpcRequest(request) };
  if (res.grpcStatus !== undefined) outcome.grpcStatus = res.grpcStatus;
  if (res.error !== undefined) outcome.error = res.error;
  return outcome;
}
