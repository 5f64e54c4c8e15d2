// How an unmeshed pod calls a Service: kube-proxy picks a ready endpoint at random; there are no
// retries, no timeouts, no load awareness and no mTLS.

import { isDefaultFailure } from "../policy/classify.js";
import { randomIndex } from "../policy/random.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { HttpRequest, Respond } from "./http.js";
import { responseOutcome, splitAuthority } from "./http.js";
import { failureCause } from "./failure-book.js";
import { NODE_LOCAL_REFUSAL_US } from "./network.js";
import type { Client, Pod } from "./pod.js";
import type { DirectWorld } from "./world-api.js";

export class DirectClient implements Client {
  private readonly rng: Rng;
  private readonly pending = new Set<Respond>();

  constructor(private readonly pod: Pod, private readonly world: DirectWorld) {
    this.rng = world.rng(`kube-proxy/${pod.cluster}/${pod.namespace}/${pod.name}`);
  }

  send(request: HttpRequest, respond: Respond, traffic: string | undefined): void {
    const startUs = this.world.sim.nowUs;
    const { host, port } = splitAuthority(request.authority);
    const service = this.world.resolveService(this.pod, host, port);
    const labels = {
      client: this.pod.workload,
      service: service === undefined ? host : service.name,
      route: "[unmeshed]",
      ...(traffic === undefined ? {} : { traffic }),
    };
    this.world.requestStarted(request);
    const done: Respond = (res) => {
      if (!this.pending.delete(done)) return;
      const now = this.world.sim.nowUs;
      // No proxy classifies here; the series judge the answer as Linkerd's default classifier would.
      const ok = !isDefaultFailure(responseOutcome(request, res));
      this.world.attempt(labels).record(startUs, now, ok, res.status, res.grpcStatus);
      this.world.request(labels).record(startUs, now, ok, res.status, res.grpcStatus);
      this.world.requestEnded(request, res.status);
      if (!ok) this.world.requestFailed(labels, res, refused ? "no-endpoints" : failureCause(res, ""), "unmeshed");
      respond(res);
    };
    let refused = false;
    this.pending.add(done);
    const endpoints = service === undefined ? [] : this.world.readyEndpoints(this.pod.cluster, service.namespace, service.name);
    if (endpoints.length === 0) {
      // Nothing behind the ClusterIP: the connection is refused on the client's own node.
      this.world.emit("request.failed", { route: labels.route, status: 502, reason: "no-endpoints" });
      refused = true;
      this.world.sim.schedule(NODE_LOCAL_REFUSAL_US, done, { status: 502, error: "connect-error" }, Priority.Completion, this.pod);
      return;
    }
    const target = endpoints[randomIndex(this.rng, endpoints.length)] as Pod;
    this.world.transmit(this.pod, target, request, done);
  }

  abandon(): void {
    for (const done of [...this.pending]) done({ status: 502, error: "reset", from: "client-pod-killed" });
  }
}
