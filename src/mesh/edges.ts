// `linkerd viz edges`: which workload talked to which, with the identities on both ends and whether
// the connection was mTLS. Rows are written where a request reaches its server: by the server's
// inbound proxy (which knows the TLS it accepted), or for an unmeshed server by the data plane.

import type { Pod } from "./pod.js";

export interface Edge {
  client: string;
  server: string;
  clientIdentity: string;
  serverIdentity: string;
  /** `√` when mTLS, else Linkerd's no-TLS reason. */
  secured: string;
  requests: number;
}

/**
 * `viz edges` SECURED column: `√` when the connection is mTLS, else the formatted no-TLS reason
 * (linkerd2 `viz/cmd/edges.go`; the reasons are the proxy's `no_tls_reason` labels,
 * linkerd2-proxy `linkerd/app/core/src/transport/labels.rs`).
 */
export const SECURED = {
  mtls: "√",
  /** The inbound proxy saw no TLS from the client (`no_tls_from_remote`): an unmeshed client. */
  noTlsFromRemote: "Not Provided By Remote",
  /** The client's proxy got no identity for the destination (`not_provided_by_service_discovery`): an unmeshed server. */
  notProvidedByServiceDiscovery: "Not Provided By Service Discovery",
} as const;

export class EdgeBook {
  private readonly edges = new Map<string, Edge>();

  /** One request from `client` reached `server` over a connection secured as `secured` says. */
  record(client: Pod, server: Pod, secured: string): void {
    const known = client.edges.get(server);
    if (known !== undefined) {
      known.requests += 1;
      return;
    }
    // One row per workload pair; each client pod keeps a shortcut to its rows by server pod.
    const key = `${client.workload}|${server.workload}`;
    let e = this.edges.get(key);
    if (e === undefined) {
      e = { client: client.workload, server: server.workload, clientIdentity: client.identity, serverIdentity: server.identity, secured, requests: 0 };
      this.edges.set(key, e);
    }
    e.requests += 1;
    client.edges.set(server, e);
  }

  /** Every row, by client then server. */
  sorted(): Edge[] {
    return [...this.edges.values()].sort((a, b) => compare(a.client, b.client) || compare(a.server, b.server));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
