// GRPCRoute objects (gateway.networking.k8s.io v1/v1alpha2) parsed into rules that route-match
// matches on the request path `/pkg.Service/Method` (POST only). Mirrors
// `policy-controller/k8s/index/src/routes/grpc.rs::try_match` @ linkerd2 version-2.16 and
// linkerd2-proxy `linkerd/http-route/src/grpc/match.rs`. Quirk kept on purpose: Linkerd's outbound
// index turns a `RegularExpression` method match into the same struct as `Exact`, so the pattern
// is compared literally.

import type { Parsed } from "./diagnostics.js";
import type { RegexEngine } from "./regex-engine.js";
import {
  type OutboundRoute,
  type RouteContext,
  asArray,
  asRecord,
  asString,
  parseHeaderMatches,
  parseRuleCommon,
  startRoute,
} from "./http-route.js";
import type { GrpcRequestMatch } from "./route-match.js";

const GRPC_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  "gateway.networking.k8s.io": ["v1", "v1alpha2"],
};

/** Filters Linkerd 2.16 applies on GRPCRoutes; any other type makes the controller drop the route. */
export const SUPPORTED_GRPC_FILTERS: readonly string[] = ["RequestHeaderModifier", "ResponseHeaderModifier"];

function parseGrpcMatch(ctx: RouteContext, raw: unknown, field: string): GrpcRequestMatch {
  const rec = asRecord(raw) ?? {};
  const match: GrpcRequestMatch = { kind: "grpc", headers: parseHeaderMatches(ctx, rec["headers"], `${field}.headers`) };
  const method = asRecord(rec["method"]);
  if (method === undefined) return match;
  // Empty strings mean "unset", as the controller's deserializer treats them.
  const service = asString(method["service"]) || undefined;
  const name = asString(method["method"]) || undefined;
  if (service !== undefined) match.service = service;
  if (name !== undefined) match.method = name;
  if (service === undefined && name === undefined) {
    ctx.reject(`${field}.method`, "grpc-method-match-empty", "a method match needs a service or a method: the route is refused, so it never applies");
  }
  if (method["type"] === "RegularExpression") {
    ctx.note("warning", `${field}.method.type`, "grpc-method-regex-literal", `Linkerd 2.16 treats this RegularExpression method match as Exact: "${service ?? ""}/${name ?? ""}" is compared literally, so a pattern only matches a service/method spelled exactly like it`);
  } else if (method["type"] !== undefined && method["type"] !== "Exact") {
    ctx.reject(`${field}.method.type`, "grpc-method-type-invalid", `method match type "${String(method["type"])}" is not Exact or RegularExpression: the API server refuses the object`);
  }
  return match;
}

/** Parse a GRPCRoute; `accepted: false` when Kubernetes or Linkerd would never apply it. `regexEngine` compiles header regexes. */
export function parseGrpcRoute(obj: unknown, regexEngine: RegexEngine): Parsed<OutboundRoute> {
  const ctx = startRoute(obj, "GRPCRoute", GRPC_VERSIONS, regexEngine);
  const rawRules = asArray(asRecord(asRecord(obj)?.["spec"])?.["rules"]);
  ctx.route.rules = (rawRules.length === 0 ? [{}] : rawRules).map((raw, i) => {
    const field = `spec.rules[${i}]`;
    const rule = parseRuleCommon(ctx, raw, field, SUPPORTED_GRPC_FILTERS);
    const matches = asArray(asRecord(raw)?.["matches"]);
    // No matches stays empty: the proxy then matches every request without even checking POST.
    rule.matches = matches.map((m, j) => parseGrpcMatch(ctx, m, `${field}.matches[${j}]`));
    return rule;
  });
  return { value: ctx.route, diagnostics: ctx.diagnostics };
}

/** The request path a gRPC call to `service`/`method` carries. */
export function grpcPath(service: string, method: string): string {
  return `/${service}/${method}`;
}
