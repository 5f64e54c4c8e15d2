// Repeated diagnostics are said once: one line per severity and code with a count and the first
// three places, then the first one's position and message; verbose lists every one in full.

import { describe, expect, it } from "vitest";
import { type ClusterDiagnostic, countDiagnostics, formatDiagnostics, groupDiagnostics, groupingHidesSome } from "../../src/k8s/diagnostic-groups.js";

const route = (i: number): ClusterDiagnostic => ({
  severity: "warning",
  code: "retry-non-idempotent",
  object: "ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local",
  field: `spec.routes[${i}].isRetryable`,
  message: `route ${i} is isRetryable and its condition can match POST`,
  source: { file: "voting-profile.yaml", line: 10 + 5 * i, col: 20 },
});
const rejected: ClusterDiagnostic = {
  severity: "error",
  code: "retry-http-invalid",
  object: "HTTPRoute shop/orders-get",
  field: 'metadata.annotations["retry.linkerd.io/http"]',
  message: "contains whitespace: Linkerd rejects the whole route",
  source: { file: "retry-space.yaml", line: 7, col: 28 },
  cluster: "east",
};
const note: ClusterDiagnostic = { severity: "info", code: "retry-budget-ratio-truncated", object: "ServiceProfile a/b", field: "spec.retryBudget.retryRatio", message: "0.3 behaves as 1/3" };

describe("groupDiagnostics", () => {
  it("puts errors first, then warnings, then notes, each code once with its diagnostics in order", () => {
    const groups = groupDiagnostics([note, route(0), rejected, route(1)]);
    expect(groups.map((g) => [g.severity, g.code, g.diagnostics.length])).toEqual([
      ["error", "retry-http-invalid", 1],
      ["warning", "retry-non-idempotent", 2],
      ["info", "retry-budget-ratio-truncated", 1],
    ]);
    expect(groups[1]?.diagnostics).toEqual([route(0), route(1)]);
  });

  it("orders codes of one severity alphabetically", () => {
    const other = { ...route(0), code: "profile-not-overriding" };
    expect(groupDiagnostics([route(0), other]).map((g) => g.code)).toEqual(["profile-not-overriding", "retry-non-idempotent"]);
  });
});

describe("formatDiagnostics", () => {
  it("says 101 diagnostics of one code in two lines: the count, three places and how many more, then the first in full", () => {
    const many = Array.from({ length: 101 }, (_, i) => route(i));
    expect(formatDiagnostics(many)).toEqual([
      "warning retry-non-idempotent ×101: ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local spec.routes[0].isRetryable, spec.routes[1].isRetryable, spec.routes[2].isRetryable, and 98 more",
      "    voting-profile.yaml:10:20: route 0 is isRetryable and its condition can match POST",
    ]);
    expect(groupingHidesSome(many)).toBe(true);
  });

  it("names the object again when the next place is in another object, and the cluster when there is one", () => {
    const other = { ...route(0), object: "ServiceProfile emojivoto/web-svc.emojivoto.svc.cluster.local" };
    expect(formatDiagnostics([route(0), other])[0]).toBe(
      "warning retry-non-idempotent ×2: ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local spec.routes[0].isRetryable, ServiceProfile emojivoto/web-svc.emojivoto.svc.cluster.local spec.routes[0].isRetryable",
    );
    expect(formatDiagnostics([rejected])).toEqual([
      'error retry-http-invalid: [east] HTTPRoute shop/orders-get metadata.annotations["retry.linkerd.io/http"]',
      "    retry-space.yaml:7:28: contains whitespace: Linkerd rejects the whole route",
    ]);
    expect(groupingHidesSome([rejected, route(0), route(1), route(2)])).toBe(false);
  });

  it("leaves out the position of a diagnostic not tied to the input", () => {
    expect(formatDiagnostics([note])).toEqual(["info retry-budget-ratio-truncated: ServiceProfile a/b spec.retryBudget.retryRatio", "    0.3 behaves as 1/3"]);
  });

  it("verbose: every diagnostic in full, in the order given", () => {
    expect(formatDiagnostics([route(0), rejected, route(1)], { verbose: true })).toEqual([
      "voting-profile.yaml:10:20: warning retry-non-idempotent: ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local spec.routes[0].isRetryable",
      "    route 0 is isRetryable and its condition can match POST",
      'retry-space.yaml:7:28: error retry-http-invalid: [east] HTTPRoute shop/orders-get metadata.annotations["retry.linkerd.io/http"]',
      "    contains whitespace: Linkerd rejects the whole route",
      "voting-profile.yaml:15:20: warning retry-non-idempotent: ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local spec.routes[1].isRetryable",
      "    route 1 is isRetryable and its condition can match POST",
    ]);
  });

  it("prints nothing for no diagnostics", () => {
    expect(formatDiagnostics([])).toEqual([]);
    expect(countDiagnostics([])).toBe("");
  });
});

describe("countDiagnostics", () => {
  it("counts each severity, singular or plural, leaving out those with none", () => {
    expect(countDiagnostics([rejected, route(0), route(1), note])).toBe("1 error, 2 warnings, 1 note");
    expect(countDiagnostics([route(0)])).toBe("1 warning");
  });
});
