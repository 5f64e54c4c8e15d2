// Traffic generators: open-loop arrivals (Poisson or evenly spaced) following a rate schedule of
// steps and linear ramps, or closed-loop users who wait for each answer and think before the
// next. Each request leaves from a running pod of the `from` deployment, through its client.

import { type Distribution, makeDistribution, sampleUs } from "../sim/distributions.js";
import { Priority } from "../sim/priority.js";
import type { Rng } from "../sim/rng.js";
import type { MeshContext } from "./context.js";
import { clientHeaders, type HttpRequest, parseHttpUrl, type Respond } from "./http.js";
import type { Pod } from "./pod.js";
import type { RatePoint, RequestProtocol, TrafficSpec } from "./spec.js";

/** Rate at `atUs` from a schedule of steps and ramps (the last point at or before `atUs` rules). */
export function rateAt(schedule: readonly RatePoint[], atUs: number): number {
  let current: RatePoint | undefined;
  for (const p of schedule) {
    if (p.atUs <= atUs) current = p;
    else break;
  }
  if (current === undefined) return 0;
  if (current.rampToRps === undefined || current.overUs === undefined || current.overUs <= 0) return current.rateRps;
  const progress = Math.min(1, (atUs - current.atUs) / current.overUs);
  return current.rateRps + (current.rampToRps - current.rateRps) * progress;
}

export interface TrafficHost extends MeshContext {
  /** Running pods of the traffic's source deployment. */
  sourcePods(spec: TrafficSpec): readonly Pod[];
  /** Unique id for a new end-user request. */
  nextOriginId(): number;
  /** Send from a source pod (through its client, or a DNS client for global names). */
  send(pod: Pod, request: HttpRequest, respond: Respond, traffic: string): void;
  /** Whether a client in `pod` speaks gRPC to `authority` (see grpc-target.ts); absent ⇒ only `protocol: grpc` does. */
  speaksGrpc?(pod: Pod, authority: string, protocol: RequestProtocol | undefined): boolean;
}

/** The draws of one request's issue: which source pod, which request kind. */
interface IssueStreams {
  readonly source: Rng;
  readonly mix: Rng;
}

export class TrafficGenerator {
  /**
   * Open loop (streams.ts): `traffic/<name>/arrivals` for the gaps and the thinning, `/source` for
   * the pod, `/mix` for the request kind, so changing one never moves the others' draws. Closed
   * loop: `traffic/<name>/user/<i>` per user, drawing source, kind and think time on each cycle.
   */
  private readonly arrivalsRng: Rng | undefined;
  private readonly openLoop: IssueStreams | undefined;
  private readonly maxRateRps: number;
  private readonly authority: string;
  private readonly totalWeight: number;
  private readonly think: Distribution | undefined;
  /** Each request kind's headers, settled on the first request (the gRPC decision never changes). */
  private headers: Array<Readonly<Record<string, string>> | undefined> | undefined;

  constructor(private readonly spec: TrafficSpec, private readonly host: TrafficHost, private readonly endUs: number) {
    if (spec.arrivals.kind !== "closed-loop") {
      this.arrivalsRng = host.rng(`traffic/${spec.name}/arrivals`);
      this.openLoop = { source: host.rng(`traffic/${spec.name}/source`), mix: host.rng(`traffic/${spec.name}/mix`) };
    }
    this.maxRateRps = Math.max(0, ...spec.rate.map((p) => Math.max(p.rateRps, p.rampToRps ?? 0)));
    const url = parseHttpUrl(spec.to);
    if (url === undefined) throw new Error(`traffic ${spec.name}: "${spec.to}" is not an http:// URL`);
    this.authority = `${url.host}:${url.port}`;
    this.totalWeight = spec.requests.reduce((a, r) => a + r.weight, 0);
    this.think = spec.arrivals.kind === "closed-loop" ? makeDistribution(spec.arrivals.thinkTime) : undefined;
  }

  start(): void {
    const a = this.spec.arrivals;
    if (a.kind === "closed-loop") {
      for (let u = 0; u < a.users; u++) {
        const rng = this.host.rng(`traffic/${this.spec.name}/user/${u}`);
        this.host.sim.schedule(0, () => this.userLoop(rng), undefined, Priority.Arrival);
      }
    } else if (this.maxRateRps > 0) {
      this.scheduleNext();
    }
  }

  private scheduleNext(): void {
    const now = this.host.sim.nowUs;
    if (this.spec.arrivals.kind === "constant" && rateAt(this.spec.rate, now) <= 0) {
      // Nothing to send now: look again when the schedule next changes.
      const next = this.spec.rate.find((p) => p.atUs > now);
      if (next !== undefined && next.atUs < this.endUs) this.host.sim.scheduleAt(next.atUs, () => this.scheduleNext(), undefined, Priority.Arrival);
      return;
    }
    const delayUs =
      this.spec.arrivals.kind === "poisson"
        ? Math.max(1, Math.round((-1e6 / this.maxRateRps) * Math.log(1 - (this.arrivalsRng as Rng).next())))
        : Math.max(1, Math.round(1e6 / rateAt(this.spec.rate, now)));
    if (this.host.sim.nowUs + delayUs >= this.endUs) return;
    this.host.sim.schedule(delayUs, () => this.openArrival(), undefined, Priority.Arrival);
  }

  private openArrival(): void {
    const now = this.host.sim.nowUs;
    const rate = rateAt(this.spec.rate, now);
    // Poisson arrivals follow the schedule by thinning a process at the peak rate.
    const accept = this.spec.arrivals.kind === "poisson" ? (this.arrivalsRng as Rng).next() * this.maxRateRps < rate : rate > 0;
    if (this.spec.arrivals.kind === "poisson" && this.maxRateRps <= 0) return;
    if (accept) this.issue(this.openLoop as IssueStreams, () => undefined);
    this.scheduleNext();
  }

  private userLoop(rng: Rng): void {
    if (this.host.sim.nowUs >= this.endUs) return;
    this.issue({ source: rng, mix: rng }, () => {
      const thinkUs = this.think === undefined ? 0 : sampleUs(this.think, rng);
      this.host.sim.schedule(thinkUs, () => this.userLoop(rng), undefined, Priority.Arrival);
    });
  }

  private issue(streams: IssueStreams, then: () => void): void {
    const pods = this.host.sourcePods(this.spec);
    if (pods.length === 0) {
      this.host.emit("traffic.no-source", { traffic: this.spec.name, reason: "no-running-pod" });
      // A closed-loop user retries after a second rather than spinning.
      this.host.sim.schedule(1_000_000, then, undefined, Priority.Arrival);
      return;
    }
    const pod = pods[Math.min(pods.length - 1, Math.floor(streams.source.next() * pods.length))] as Pod;
    const index = this.pickRequest(streams.mix);
    const mix = this.spec.requests[index] as TrafficSpec["requests"][number];
    if (this.headers === undefined) {
      const grpc = this.host.speaksGrpc?.(pod, this.authority, this.spec.protocol) ?? this.spec.protocol === "grpc";
      // Frozen: every request of a kind shares them, and the proxy's route memo may key on them.
      this.headers = this.spec.requests.map((r) => {
        const h = clientHeaders(r.headers, grpc);
        return h === undefined ? undefined : Object.freeze(h);
      });
    }
    const headers = this.headers[index];
    const request: HttpRequest = {
      method: mix.method,
      path: mix.path,
      authority: this.authority,
      bodyBytes: mix.bodyBytes,
      ...(headers === undefined ? {} : { headers }),
      origin: { id: this.host.nextOriginId(), traffic: this.spec.name },
    };
    this.host.send(pod, request, () => then(), this.spec.name);
  }

  /** The index of the next request kind, drawn by weight. */
  private pickRequest(rng: Rng): number {
    let u = rng.next() * this.totalWeight;
    for (const [i, r] of this.spec.requests.entries()) {
      u -= r.weight;
      if (u < 0) return i;
    }
    return this.spec.requests.length - 1;
  }
}
