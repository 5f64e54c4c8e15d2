// Whether a client speaks gRPC to a target, which decides whether its requests carry
// `content-type: application/grpc` — the only thing Linkerd's classifier looks at to judge a
// response by its grpc-status (linkerd2-proxy `linkerd/app/core/src/classify.rs::is_grpc` @
// release/v2.246.0). Linkerd never guesses; the client does, so meshsim decides for it:
//   - `protocol: grpc` or `http` on the traffic entry or call, as written;
//   - `auto`: gRPC when the target Service port says so — `appProtocol: grpc`, or a port name
//     `grpc` or `grpc-…` (the naming convention Linkerd's own emojivoto demo and Istio use) — or
//     when a GRPCRoute is attached to the Service, since Linkerd 2.16 then routes that Service as
//     gRPC and ignores its HTTPRoutes (policy `routesForParent`).
// `appProtocol: kubernetes.io/h2c` is not taken as gRPC: it says HTTP/2 without TLS, which plain
// HTTP/2 clients speak too. A mirror `<svc>-<cluster>` is judged by its GRPCRoutes only (its
// ports live in the other cluster): say `protocol: grpc` for a gRPC mirror.

import type { K8sObject } from "../k8s/object.js";
import { re2Engine } from "../k8s/re2-engine.js";
import { parseGrpcRoute } from "../policy/grpc-route.js";
import { type OutboundRoute, parseHttpRoute, routesForParent } from "../policy/http-route.js";
import type { ServiceRef } from "./destination.js";
import type { RequestProtocol } from "./spec.js";

export interface GrpcTargetObjects {
  ofKind(kind: string): readonly K8sObject[];
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : {});

/** The Service port a client dials, as written in the Service object (undefined when there is none). */
function servicePort(objects: GrpcTargetObjects, service: ServiceRef): Rec | undefined {
  const svc = objects.ofKind("Service").find((o) => o.metadata.name === service.name && (o.metadata.namespace ?? "default") === service.namespace);
  if (svc === undefined) return undefined;
  const ports = rec(svc.raw["spec"])["ports"];
  return (Array.isArray(ports) ? ports : []).map(rec).find((p) => p["port"] === service.port);
}

/** Whether `auto` makes requests to `service` gRPC, and why. */
export function grpcTarget(objects: GrpcTargetObjects, service: ServiceRef): { grpc: boolean; reason: string } {
  const port = servicePort(objects, service);
  const appProtocol = typeof port?.["appProtocol"] === "string" ? port["appProtocol"].toLowerCase() : undefined;
  if (appProtocol === "grpc") return { grpc: true, reason: `port ${service.port} has appProtocol: grpc` };
  const name = typeof port?.["name"] === "string" ? port["name"] : undefined;
  if (name !== undefined && (name === "grpc" || name.startsWith("grpc-"))) return { grpc: true, reason: `port ${service.port} is named ${name}` };
  const routes: OutboundRoute[] = [
    ...objects.ofKind("GRPCRoute").map((o) => parseGrpcRoute(o.raw, re2Engine).value),
    ...objects.ofKind("HTTPRoute").map((o) => parseHttpRoute(o.raw, re2Engine).value),
  ];
  if (routesForParent(routes, service).protocol === "grpc") return { grpc: true, reason: "a GRPCRoute is attached to the Service" };
  return { grpc: false, reason: "neither its port nor its routes say gRPC" };
}

/** `auto` decisions per cluster and Service, made once: objects do not change during a run. */
export class GrpcTargets {
  private readonly cache = new Map<string, boolean>();

  /** Whether a request written with `protocol` to `service` (in the client's cluster `objects`) is gRPC. */
  isGrpc(protocol: RequestProtocol | undefined, cluster: string, objects: GrpcTargetObjects, service: ServiceRef | undefined): boolean {
    if (protocol === "grpc") return true;
    if (protocol === "http" || service === undefined) return false;
    const key = `${cluster}|${service.namespace}/${service.name}:${service.port}`;
    let grpc = this.cache.get(key);
    if (grpc === undefined) {
      grpc = grpcTarget(objects, service).grpc;
      this.cache.set(key, grpc);
    }
    return grpc;
  }
}
