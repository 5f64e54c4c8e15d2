import { describe, expect, it } from "vitest";
import { parseGrpcRoute } from "../../src/policy/grpc-route.js";
import { parseHttpRoute } from "../../src/policy/http-route.js";
import { NEVER_MATCHES, type RegexEngine, type RegexMatcher, hasTopLevelAlternation } from "../../src/policy/regex-engine.js";
import { regexMatchesWhole } from "../../src/policy/route-match.js";
import { parseServiceProfile } from "../../src/policy/service-profile.js";

// The policy parsers own Linkerd's use of regexes (which pattern is compiled, anchored how, what a
// refusal costs); the engine only compiles. A stand-in engine shows that split without RE2.

type Refusal = { problem: "invalid" | "unsupported"; reason: string };

/** JavaScript RegExp behind the interface, recording every pattern it is asked to compile. */
function fakeEngine(refusals: Record<string, Refusal> = {}): { engine: RegexEngine; compiled: string[] } {
  const compiled: string[] = [];
  const engine: RegexEngine = {
    dialect: "FAKE",
    compile(pattern) {
      compiled.push(pattern);
      const refusal = refusals[pattern];
      if (refusal !== undefined) return { ok: false, ...refusal };
      const re = new RegExp(pattern, "u");
      const matcher: RegexMatcher = {
        isMatch: (v) => re.test(v),
        find: (v) => {
          const m = re.exec(v);
          return m === null ? undefined : { start: m.index, end: m.index + m[0].length };
        },
      };
      return { ok: true, matcher };
    },
  };
  return { engine, compiled };
}

const parentRefs = [{ group: "core", kind: "Service", name: "web", port: 80 }];
function httpRoute(match: Record<string, unknown>): unknown {
  return { apiVersion: "policy.linkerd.io/v1beta3", kind: "HTTPRoute", metadata: { name: "r", namespace: "shop" }, spec: { parentRefs, rules: [{ matches: [match] }] } };
}
function profile(condition: Record<string, unknown>): unknown {
  return { kind: "ServiceProfile", metadata: { name: "web.shop.svc.cluster.local", namespace: "shop" }, spec: { routes: [{ name: "r", condition }] } };
}

describe("what the parsers hand the regex engine", () => {
  it("a ServiceProfile pathRegex is trimmed and anchored by the proxy's rule before it is compiled", () => {
    const { engine, compiled } = fakeEngine();
    parseServiceProfile(profile({ all: [{ pathRegex: " /api/.* " }, { pathRegex: "^/x" }, { pathRegex: "/y$" }] }), { regexEngine: engine });
    expect(compiled).toEqual(["^/api/.*$", "^/x$", "^/y$"]);
  });

  it("HTTPRoute path, header and query regexes are compiled exactly as written, with no anchors added", () => {
    const { engine, compiled } = fakeEngine();
    parseHttpRoute(httpRoute({
      path: { type: "RegularExpression", value: "/foo/\\d+" },
      headers: [{ name: "x", type: "RegularExpression", value: "bar*" }, { name: "y", value: "exact" }],
      queryParams: [{ name: "v", type: "RegularExpression", value: "[0-9]+" }],
    }), engine);
    expect(compiled).toEqual(["/foo/\\d+", "bar*", "[0-9]+"]);
  });

  it("a GRPCRoute header regex goes through the engine too", () => {
    const { engine, compiled } = fakeEngine();
    const grpc = { apiVersion: "gateway.networking.k8s.io/v1", kind: "GRPCRoute", metadata: { name: "g", namespace: "shop" }, spec: { parentRefs, rules: [{ matches: [{ headers: [{ name: "x", type: "RegularExpression", value: "v[12]" }] }] }] } };
    parseGrpcRoute(grpc, engine);
    expect(compiled).toEqual(["v[12]"]);
  });
});

describe("whole-value matching on top of the engine's find", () => {
  const spanning = (start: number, end: number): RegexMatcher => ({ isMatch: () => true, find: () => ({ start, end }) });

  it("holds only when the leftmost-first match starts at 0 and ends at the value's end", () => {
    expect(regexMatchesWhole(spanning(0, 3), "abc")).toBe(true);
    expect(regexMatchesWhole(spanning(0, 3), "abcd")).toBe(false);
    expect(regexMatchesWhole(spanning(1, 3), "abc")).toBe(false);
    expect(regexMatchesWhole(NEVER_MATCHES, "")).toBe(false);
  });
});

describe("what an engine's refusal costs", () => {
  const lookAround: Refusal = { problem: "invalid", reason: "look-around is not supported" };

  it("an invalid HTTPRoute regex rejects the route, naming the field, the engine's reason and Linkerd's webhook", () => {
    const { engine } = fakeEngine({ "(?=x)x": lookAround });
    const parsed = parseHttpRoute(httpRoute({ headers: [{ name: "x", type: "RegularExpression", value: "(?=x)x" }] }), engine);
    expect(parsed.value.accepted).toBe(false);
    expect(parsed.diagnostics).toMatchObject([{ severity: "error", code: "route-regex-invalid", field: "spec.rules[0].matches[0].headers[0].value" }]);
    expect(parsed.diagnostics[0]?.message).toContain("look-around is not supported");
    expect(parsed.diagnostics[0]?.message).toContain("policy-validator webhook refuses the object");
    expect(parsed.value.rules[0]?.matches[0]).toMatchObject({ headers: [{ matcher: NEVER_MATCHES }] });
  });

  it("a pattern Linkerd accepts but the engine cannot run is reported as meshsim's limit, not Linkerd's", () => {
    const { engine } = fakeEngine({ "/[a[b]]": { problem: "unsupported", reason: "nested class" } });
    const parsed = parseHttpRoute(httpRoute({ path: { type: "RegularExpression", value: "/[a[b]]" } }), engine);
    expect(parsed.diagnostics).toMatchObject([{ code: "route-regex-unsupported", field: "spec.rules[0].matches[0].path.value" }]);
    expect(parsed.diagnostics[0]?.message).toMatch(/valid for Linkerd .* FAKE engine cannot run it faithfully: nested class/);
  });

  it("an invalid pathRegex drops the ServiceProfile condition (the proxy's filter_map), and the route with it", () => {
    const { engine } = fakeEngine({ "^/(a)\\1$": { problem: "invalid", reason: "backreference" } });
    const parsed = parseServiceProfile(profile({ pathRegex: "/(a)\\1" }), { regexEngine: engine });
    expect(parsed.value.routes).toEqual([]);
    expect(parsed.value.rejected).toBe(false);
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["profile-route-regex-invalid", "profile-route-dropped"]);
    expect(parsed.diagnostics[0]).toMatchObject({ field: "spec.routes[0].condition.pathRegex" });
    expect(parsed.diagnostics[0]?.message).toContain("backreference");
  });

  it("an unsupported pathRegex has its own code", () => {
    const { engine } = fakeEngine({ "^(?x)/a b$": { problem: "unsupported", reason: "verbose flag" } });
    const parsed = parseServiceProfile(profile({ pathRegex: "(?x)/a b" }), { regexEngine: engine });
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["profile-route-regex-unsupported", "profile-route-dropped"]);
  });
});

describe("hasTopLevelAlternation", () => {
  it.each([
    ["/a|/b", true],
    ["(/a)|/b", true],
    ["(/a|/b)", false],
    ["/[|]", false],
    ["/[]|]", false],
    ["/[[:alpha:]|]", false],
    ["/\\|", false],
    ["/\\Qa|b\\E", false],
    ["", false],
  ])("%s → %s", (pattern, expected) => {
    expect(hasTopLevelAlternation(pattern)).toBe(expected);
  });
});
