// The messages that travel through the simulated mesh. A response is delivered as one event
// (headers and body together); an error stands for a response the proxy synthesised.

import type { ProxyErrorKind } from "../policy/request-timeouts.js";

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
}

export type Respond = (response: HttpResponse) => void;

/** Parse `http://host[:port][/path]` into authority parts; undefined if it is not such a URL. */
export function parseHttpUrl(url: string): { host: string; port: number; path: string } | undefined {
  const m = /^http:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/.exec(url);
  if (m === null) return undefined;
  return { host: (m[1] as string).toLowerCase(), port: m[2] === undefined ? 80 : Number(m[2]), path: m[3] ?? "/" };
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
