// What a proxy would build from a destination config, as a comparable string. The control plane
// uses it to push only the destinations that changed (the destination controller answers each
// GetProfile stream on its own, so an update of one ServiceProfile reaches only that profile's
// watchers; the policy controller's OutboundPolicies streams likewise), and a proxy uses the
// profile half to keep its retry budget across updates that leave the profile as it was.

import type { Destination } from "./destination.js";

/**
 * Everything in `dest` that shapes the proxy's stacks: routes, rule configs, backends and their
 * weights, budget, failure accrual. `reason` is the simulator's explanation, not config: left out.
 */
export function destinationSignature(dest: Destination): string {
  const { reason: _reason, ...config } = dest;
  return stableString(config);
}

/**
 * The ServiceProfile the proxy holds for the destination (routes, retry budget, dstOverride
 * targets); undefined on the client-policy stack, which has no profile budget. linkerd2-proxy
 * builds a new `Budget` from every profile update it receives (`service-profiles/src/proto.rs`,
 * `convert_retry_budget`), so two equal signatures mean no update, and the budget is kept.
 */
export function profileSignature(dest: Destination): string | undefined {
  if (dest.stack !== "profile") return undefined;
  return stableString({ routes: dest.routes, budget: dest.budget, targets: dest.targets, service: dest.service });
}

/**
 * JSON-like text with object keys sorted, `undefined` fields dropped, Maps as entry lists in
 * insertion order (the order the controllers built them, which is itself deterministic), Sets as
 * lists and regular expressions by source and flags.
 */
export function stableString(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (value instanceof RegExp) return JSON.stringify(`/${value.source}/${value.flags}`);
  if (value instanceof Map) return `Map[${[...value].map(([k, v]) => `${stableString(k)}=>${stableString(v)}`).join(",")}]`;
  if (value instanceof Set) return `Set[${[...value].map(stableString).join(",")}]`;
  if (Array.isArray(value)) return `[${value.map(stableString).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableString(v)}`).join(",")}}`;
}
