// Random streams of the mesh, one per entity and per purpose. Every stream is forked by label from
// the seed (src/sim/rng.ts), so a stream's draws depend only on how often its own entity drew
// before: adding an unrelated workload, Service or link shifts no other stream, and two runs that
// differ only in a policy draw common random numbers wherever the policy does not change what is
// drawn. Labels are stable slash paths; `<pod>` is `<cluster>/<namespace>/<pod name>` (pod names
// never repeat in a namespace), a Service `<namespace>/<name>:<port>`.
//
//   net/<from pod>-><to pod>                       network latency of messages from one pod to another
//                                                  (requests, answers, HTTP/1); one stream per direction
//   proxy/<pod>/latency                            that pod's proxy hops (its outbound and inbound passes)
//   proxy/<pod>/distribute                         choosing a weighted backend of a route or profile
//   proxy/<pod>/backoff                            jitter of annotation-retry backoffs
//   proxy/<pod>/connect, proxy/<pod>/reconnect     connection set-up messages, reconnect backoff jitter
//   balancer/<pod>/<parent svc>/<backend svc>[#n]  P2C of one backend of one destination; #n: rebuilt
//   accrual/<pod>/<parent svc>/<backend svc>[#n]   its endpoints' failure-accrual backoff
//   app/<pod>/latency, app/<pod>/errors            an app's service times, its error draws
//   app/<pod>/calls                                whether it makes a call of probability below 1
//   kube-proxy/<pod>                               an unmeshed client's endpoint pick
//   dns-client/<pod>/pick, dns-client/<pod>/rtt    a DNS-failover client's pick, its no-target round trip
//   control-plane/<cluster>/deliver/<ns>/<pod>     destination and endpoint pushes to one proxy
//   endpoints-controller/<cluster>/<ns>/<svc>      one Service's Endpoints sync delays
//   smi-adaptor/<cluster>/<ns>/<split>             one TrafficSplit's watch and sync delays
//   failover-operator/<cluster>/endpoints/<ns>/<svc>  the operator's watch of one Endpoints object
//   failover-operator/<cluster>/split/<ns>/<split>/patch, .../watch  one split's patch round trips,
//                                                  the operator's watch of it
//   service-mirror/<from>/<to>/probe               one link's probe ticker jitter
//   service-mirror/<from>/<to>/watch/<ns>/<svc>    the remote watch of one mirrored Service (WAN included)
//   traffic/<name>/arrivals, /source, /mix         open-loop arrivals, the source pod, the request kind
//   traffic/<name>/user/<i>                        a closed-loop user's source, request kind and think
//                                                  time, drawn in that order on each cycle
//
// Streams are made lazily, on an entity's first draw, and cached: seeding one (through xor4096) costs about 15 µs.

import type { Rng } from "../sim/rng.js";

/** Where streams come from: the run's registry (each label once per run). */
export interface StreamSource {
  rng(label: string): Rng;
}

/** A pod as labels name it: `<cluster>/<namespace>/<name>`. */
export function podPath(pod: { readonly cluster: string; readonly namespace: string; readonly name: string }): string {
  return `${pod.cluster}/${pod.namespace}/${pod.name}`;
}

/** One stream per key, forked on first use under `labelOf(key)` and kept. */
export class LazyStreams<K> {
  private readonly byKey = new Map<K, Rng>();
  constructor(
    private readonly source: StreamSource,
    private readonly labelOf: (key: K) => string,
  ) {}

  get(key: K): Rng {
    let r = this.byKey.get(key);
    if (r === undefined) {
      r = this.source.rng(this.labelOf(key));
      this.byKey.set(key, r);
    }
    return r;
  }
}
