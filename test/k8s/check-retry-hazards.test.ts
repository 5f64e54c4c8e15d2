// `meshsim check` retry-hazard rules. Expected values come from the Linkerd reference
// (linkerd-semantics.md §0–§3, §10, "Discrepancies with the guide"): limit N ⇒ N+1 attempts,
// default limit 1, effective budget ratio = deposit/withdraw (0.3 ⇒ 1/3), no budget on annotations,
// backoff before retry i+1 at least min(25ms·2^i, 250ms), request timeout covering every attempt.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CheckOptions, type PositionedDiagnostic, checkObjects } from "../../src/k8s/check.js";
import { parseManifests } from "../../src/k8s/load.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "k8s", "retry-hazards");
const fixture = (name: string): string => readFileSync(join(fixtures, name), "utf8");

function check(text: string, opts: CheckOptions = {}, file = "t.yaml"): PositionedDiagnostic[] {
  const { objects, errors } = parseManifests(text, file);
  expect(errors).toEqual([]);
  return checkObjects(objects, opts);
}
const HAZARD_CODES = [
  "retry-non-idempotent",
  "retry-limit-read-as-attempts",
  "retry-no-budget-on-annotations",
  "retry-budget-ratio-truncated",
  "retry-timeout-exceeds-request-timeout",
  "retry-high-limit",
  "retry-attempts-exceed-request-timeout",
];
const hazards = (diags: readonly PositionedDiagnostic[]): PositionedDiagnostic[] => diags.filter((d) => HAZARD_CODES.includes(d.code));
const brief = (d: PositionedDiagnostic): string => `${d.severity} ${d.code} ${d.object} ${d.field}`;
const line = (text: string, needle: string): number => text.slice(0, text.indexOf(needle)).split("\n").length;

const service = (name: string, annotations: Record<string, string> = {}): string => {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"\n`).join("");
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: shop\n${lines === "" ? "" : `  annotations:\n${lines}`}spec:\n  selector: {app: ${name}}\n  ports: [{port: 80}]\n`;
};
const profile = (name: string, routes: string, budget = ""): string =>
  `apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: ${name}.shop.svc.cluster.local, namespace: shop}\nspec:\n  routes:\n${routes}${budget}`;
const route = (name: string, condition: string): string => `    - name: ${name}\n      condition: ${condition}\n      isRetryable: true\n`;
const docs = (...parts: string[]): string => parts.join("---\n");

describe("retry-non-idempotent on ServiceProfile routes", () => {
  const text = fixture("profile-writes.yaml");
  const diags = hazards(check(text, {}, "profile-writes.yaml")).filter((d) => d.code === "retry-non-idempotent");

  it("warns on each isRetryable route that can match POST or PATCH, and on no other", () => {
    expect(diags.map(brief)).toEqual([1, 2, 3].map((i) => `warning retry-non-idempotent ServiceProfile shop/orders.shop.svc.cluster.local spec.routes[${i}].isRetryable`));
  });

  it("points at the route's isRetryable", () => {
    expect(diags[0]?.source?.line).toBe(line(text, "name: POST /orders") + 4);
  });

  it("says a route without a method condition matches writes too", () => {
    expect(diags[1]?.message).toMatch(/"\/admin".*no method condition, so it matches POST and PATCH too/);
    expect(diags[2]?.message).toMatch(/"PUT or PATCH \/items".*can match PATCH:/);
  });

  it("states the consequence: Linkerd retries whatever the method, so a write can execute twice", () => {
    expect(diags[0]?.message).toMatch(/whatever the method/);
    expect(diags[0]?.message).toMatch(/executes twice if the first attempt's side effect happened/);
  });

  it.each([
    ["a GET route", "{method: GET, pathRegex: /a}", 0],
    ["a route for GET or HEAD", "{any: [{method: GET}, {method: HEAD}]}", 0],
    ["a route for everything but GET", "{all: [{pathRegex: /a}, {not: {method: GET}}]}", 1],
    ["a POST route", "{method: POST}", 1],
    ["a path-only route", "{pathRegex: /a}", 1],
  ])("%s: %i warning(s)", (_what, condition, count) => {
    const diags = check(docs(service("web"), profile("web", route("r", condition))));
    expect(diags.filter((d) => d.code === "retry-non-idempotent")).toHaveLength(count);
  });

  it("says nothing when the profile's retry budget is invalid, as then nothing is retried", () => {
    const text = docs(service("web"), profile("web", route("r", "{method: POST}"), "  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 100s}\n"));
    expect(check(text).map((d) => d.code)).toEqual(["profile-retry-budget-invalid"]);
  });
});

describe("retry-non-idempotent on a per-try timeout (retry.linkerd.io/timeout)", () => {
  const text = fixture("annotation-writes.yaml");
  const diags = hazards(check(text, {}, "annotation-writes.yaml"));

  it("warns on the Service's default route, each route rule admitting POST/PATCH, and a rule inheriting the Service's timeout", () => {
    expect(diags.map(brief)).toEqual([
      'warning retry-non-idempotent Service shop/web metadata.annotations["retry.linkerd.io/timeout"]',
      "warning retry-non-idempotent HTTPRoute shop/api spec.rules[1]",
      "warning retry-non-idempotent HTTPRoute shop/api spec.rules[2]",
      "warning retry-non-idempotent HTTPRoute shop/cart-writes spec.rules[0]",
    ]);
  });

  it("names the methods, the per-try timeout and where it comes from", () => {
    expect(diags[0]?.message).toMatch(/default route matches every method.*per-try timeout of 300ms/);
    expect(diags[1]?.message).toMatch(/rule 1 matches POST and has a per-try timeout of 200ms/);
    expect(diags[2]?.message).toMatch(/rule 2 matches any method \(POST and PATCH included\)/);
    expect(diags[3]?.message).toMatch(/rule 0 matches PATCH .* 1s \(retry\.linkerd\.io\/timeout, inherited from Service shop\/cart\)/);
  });

  it("states the consequence: the abandoned attempt may still complete, so a write can execute twice", () => {
    expect(diags.every((d) => /server may still complete the abandoned attempt, so a write can execute twice/.test(d.message))).toBe(true);
  });
});

describe("notes every annotation retry earns (CheckOptions.notes)", () => {
  const text = fixture("annotation-writes.yaml");
  const notes = hazards(check(text, { notes: true }, "annotation-writes.yaml")).filter((d) => d.severity === "info");

  it("are off by default", () => {
    expect(check(text).filter((d) => d.severity === "info")).toEqual([]);
  });

  it("retry-limit-read-as-attempts: limit 2 counts retries, so a request makes up to 3 attempts", () => {
    const limit = notes.filter((d) => d.code === "retry-limit-read-as-attempts");
    expect(limit.map(brief)).toEqual(['info retry-limit-read-as-attempts Service shop/web metadata.annotations["retry.linkerd.io/limit"]']);
    expect(limit[0]?.message).toMatch(/counts retries, not attempts: a request makes up to 3 attempts/);
    expect(limit[0]?.message).toMatch(/limit is 1 \(2 attempts\)/);
  });

  it.each([
    ["Service shop/web", 3],
    ["HTTPRoute shop/api", 2],
    ["Service shop/cart", 2],
  ])("retry-no-budget-on-annotations on %s: amplification (limit+1)× = %i×", (object, attempts) => {
    const d = notes.find((n) => n.code === "retry-no-budget-on-annotations" && n.object === object);
    expect(d?.message).toMatch(/no retry budget/);
    expect(d?.message).toContain(`limit+1 = ${attempts} attempts`);
    expect(d?.message).toContain(`${attempts}× the offered load`);
  });

  it("limit 0 gets no attempts note: it reads as unset, which retry-limit-zero explains", () => {
    const codes = check(service("web", { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "0" }), { notes: true }).map((d) => d.code);
    expect(codes).toContain("retry-limit-zero");
    expect(codes).not.toContain("retry-limit-read-as-attempts");
  });
});

describe("retry-timeout-exceeds-request-timeout", () => {
  const text = fixture("timeouts.yaml");
  const diags = check(text, {}, "timeouts.yaml").filter((d) => d.code === "retry-timeout-exceeds-request-timeout");

  it("warns where the per-try timeout is not shorter than the request timeout, Service or route rule", () => {
    expect(diags.map(brief)).toEqual([
      'warning retry-timeout-exceeds-request-timeout Service shop/slow metadata.annotations["retry.linkerd.io/timeout"]',
      "warning retry-timeout-exceeds-request-timeout HTTPRoute shop/fast spec.rules[0]",
    ]);
    expect(diags[0]?.message).toMatch(/per-try timeout 2s .* request timeout 2s/);
    expect(diags[1]?.message).toMatch(/per-try timeout 1500ms .* request timeout 1s/);
    expect(diags[0]?.message).toMatch(/deadline covers every attempt and expires first.*504.*never fires/);
  });

  it.each([
    ["99ms", "100ms", 0],
    ["100ms", "100ms", 1],
    ["1s", "100ms", 1],
  ])("per-try %s against request %s: %i warning(s)", (perTry, request, count) => {
    const d = check(service("s", { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/timeout": perTry, "timeout.linkerd.io/request": request }));
    expect(d.filter((x) => x.code === "retry-timeout-exceeds-request-timeout")).toHaveLength(count);
  });
});

describe("retry-budget-ratio-truncated", () => {
  it("0.3 behaves as 1/3, pointed at the retryRatio", () => {
    const text = fixture("profile-writes.yaml");
    const d = check(text, {}, "p.yaml").filter((x) => x.code === "retry-budget-ratio-truncated");
    expect(d.map(brief)).toEqual(["info retry-budget-ratio-truncated ServiceProfile shop/orders.shop.svc.cluster.local spec.retryBudget.retryRatio"]);
    expect(d[0]?.message).toMatch(/retryRatio 0\.3 behaves as 1\/3/);
    expect(d[0]?.source?.line).toBe(line(text, "retryRatio: 0.3"));
  });

  // Reference §1.2: effective ratio deposit/withdraw; noted only when it differs by more than 1 %.
  it.each([
    [0.1, undefined],
    [0.2, undefined],
    [0.25, undefined],
    [0.3, "1/3"],
    [0.4, "1/2"],
    [0.6, "1/1"],
    [0.7, "1/1"],
    [1.5, undefined],
    [2.0, undefined],
  ])("retryRatio %f: %s", (ratio, effective) => {
    const text = docs(service("web"), profile("web", route("r", "{method: GET}"), `  retryBudget: {retryRatio: ${ratio}, minRetriesPerSecond: 10, ttl: 10s}\n`));
    const d = check(text).filter((x) => x.code === "retry-budget-ratio-truncated");
    if (effective === undefined) expect(d).toEqual([]);
    else expect(d[0]?.message).toContain(`behaves as ${effective} `);
  });
});

describe("retry annotations a ServiceProfile overrides (retry-ignored-by-profile)", () => {
  const text = fixture("split-wins.yaml");
  const diags = check(text, { notes: true }, "split.yaml");

  it("is the existing profile-overrides-service-annotations warning, naming the TrafficSplit that creates the profile", () => {
    expect(diags.map(brief)).toEqual(["warning profile-overrides-service-annotations Service shop/checkout metadata.annotations"]);
    expect(diags[0]?.message).toContain("created by the SMI adaptor from TrafficSplit shop/checkout");
    expect(diags[0]?.message).toContain("retry.linkerd.io/limit, retry.linkerd.io/timeout");
  });

  it("and no retry hazard is reported for annotations Linkerd ignores", () => {
    expect(hazards(diags)).toEqual([]);
    expect(hazards(check(text.replace(/apiVersion: split[\s\S]*$/, ""), { notes: true }))).not.toEqual([]);
  });
});

describe("retry-high-limit (always on)", () => {
  const text = fixture("deadlines.yaml");
  const diags = check(text, {}, "deadlines.yaml").filter((d) => d.code === "retry-high-limit");

  it("warns once on the Service and once on a route with its own limit, not on a route inheriting the Service's", () => {
    expect(diags.map(brief)).toEqual([
      'warning retry-high-limit Service shop/ledger metadata.annotations["retry.linkerd.io/limit"]',
      'warning retry-high-limit HTTPRoute shop/pay metadata.annotations["retry.linkerd.io/limit"]',
    ]);
    expect(diags[0]?.source?.line).toBe(line(text, 'retry.linkerd.io/limit: "3"'));
  });

  it("states the amplification for the limit: (limit+1)× per layer, squared behind two", () => {
    expect(diags[0]?.message).toMatch(/no retry budget/);
    expect(diags[0]?.message).toContain("limit+1 = 4 attempts");
    expect(diags[0]?.message).toContain("receives 4× its load");
    expect(diags[0]?.message).toContain("16× behind two such layers");
    expect(diags[1]?.message).toContain("receives 5× its load");
    expect(diags[0]?.message).toMatch(/lower limit.*ServiceProfile.*retry budget/);
  });

  // Limit 0 and no limit both mean limit 1 (reference §3.2).
  it.each([
    [undefined, 0],
    ["0", 0],
    ["2", 0],
    ["3", 1],
    ["10", 1],
  ])("limit %s on a Service: %i warning(s)", (limit, count) => {
    const annotations: Record<string, string> = { "retry.linkerd.io/http": "5xx", ...(limit === undefined ? {} : { "retry.linkerd.io/limit": limit }) };
    const d = check(service("s", annotations)).filter((x) => x.code === "retry-high-limit");
    expect(d).toHaveLength(count);
    if (limit !== undefined && count > 0) expect(d[0]?.message).toContain(`receives ${Number(limit) + 1}× its load`);
  });

  it("says nothing where a ServiceProfile takes over and the annotations are ignored", () => {
    const text = docs(service("web", { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "5" }), profile("web", route("r", "{method: GET}")));
    expect(check(text).map((d) => d.code)).not.toContain("retry-high-limit");
  });
});

describe("retry-attempts-exceed-request-timeout", () => {
  const text = fixture("deadlines.yaml");
  const diags = check(text, {}, "deadlines.yaml").filter((d) => d.code === "retry-attempts-exceed-request-timeout");

  it("warns on the Service and on the route rule whose request timeout is too short, not on an inheriting route", () => {
    expect(diags.map(brief)).toEqual([
      'warning retry-attempts-exceed-request-timeout Service shop/ledger metadata.annotations["retry.linkerd.io/timeout"]',
      "warning retry-attempts-exceed-request-timeout HTTPRoute shop/pay spec.rules[1]",
    ]);
  });

  it("shows the sum, how many attempts fit, and the 504 once the deadline has passed", () => {
    // 4 × 250ms + (25 + 50 + 100)ms = 1175ms > 1s; after 3 attempts 825ms, after 4 1175ms.
    expect(diags[0]?.message).toContain("4 × 250ms + at least 175ms of backoff = 1175ms, more than its request timeout 1s");
    expect(diags[0]?.message).toContain("at most 3 of the 4 fit");
    // The deadline is enforced where attempts reach an endpoint (linkerd2-proxy EnforceTimeouts).
    expect(diags[0]?.message).toMatch(/fails with 504 once the 1s deadline has passed/);
    expect(diags[0]?.message).toContain("a retry that wakes from its backoff after it fails at once");
    // 5 × 100ms + (25 + 50 + 100 + 200)ms = 875ms > 800ms; after 4 attempts 575ms.
    expect(diags[1]?.message).toContain("rule 1's 5 attempts (limit 4 + 1)");
    expect(diags[1]?.message).toContain("= 875ms, more than its request timeout 800ms");
    expect(diags[1]?.message).toContain("at most 4 of the 5 fit");
  });

  // need = (limit+1)·perTry + Σ_{i<limit} min(25·2^i, 250) ms; fit = largest k with k·perTry + Σ_{i<k−1} ≤ request.
  it.each([
    // §3.5 http_timeout_with_request_timeout: 3 × 100 + 25 + 50 = 375 ≤ 500, so all 3 attempts fit.
    ["100ms", "2", "500ms", undefined],
    ["100ms", "2", "375ms", undefined], // exactly equal: the last attempt just fits
    ["100ms", "2", "374ms", 2], // 2 attempts: 100 + 25 + 100 = 225
    ["200ms", "2", "500ms", 2], // 675 > 500; 2 attempts: 425
    ["300ms", undefined, "500ms", 1], // default limit 1: 300 + 25 + 300 = 625 > 500; 1 attempt: 300
    ["100ms", "5", "1s", 5], // 600 + 625 = 1225 > 1000; 5 attempts: 500 + 375 = 875
    ["1ms", "10", "1s", 7], // backoff dominates: 7 attempts 7 + 875 = 882, 8 attempts 8 + 1125 = 1133
  ])("per-try %s, limit %s, request %s: at most %s attempts fit", (perTry, limit, request, fit) => {
    const annotations: Record<string, string> = { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/timeout": perTry, "timeout.linkerd.io/request": request, ...(limit === undefined ? {} : { "retry.linkerd.io/limit": limit }) };
    const d = check(service("s", annotations)).filter((x) => x.code === "retry-attempts-exceed-request-timeout");
    if (fit === undefined) expect(d).toEqual([]);
    else expect(d[0]?.message).toContain(`at most ${fit} of the ${Number(limit ?? "1") + 1} fit`);
  });

  it.each([
    ["per-try not shorter than the request timeout (retry-timeout-exceeds-request-timeout says it)", { "retry.linkerd.io/timeout": "1s", "timeout.linkerd.io/request": "500ms" }],
    ["no request timeout", { "retry.linkerd.io/timeout": "1s" }],
    ["request timeout 0 (none)", { "retry.linkerd.io/timeout": "300ms", "timeout.linkerd.io/request": "0" }],
    ["no per-try timeout", { "timeout.linkerd.io/request": "10ms" }],
  ])("says nothing with %s", (_what, annotations) => {
    const d = check(service("s", { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2", ...annotations }));
    expect(d.map((x) => x.code)).not.toContain("retry-attempts-exceed-request-timeout");
  });
});
