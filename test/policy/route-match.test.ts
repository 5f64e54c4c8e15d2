import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import type { RegexMatcher } from "../../src/policy/regex-engine.js";
import {
  type HttpRequestMatch,
  type MatchableRoute,
  type PathMatch,
  type RequestMatch,
  type RouteRequest,
  compareSummaries,
  findRoute,
  matchHostname,
  pathMatchLength,
  sortRoutes,
  summarizeMatch,
} from "../../src/policy/route-match.js";

interface MatchOpts {
  path?: PathMatch;
  headers?: [string, string][];
  headerRegex?: [string, string][];
  query?: [string, string][];
  method?: string;
}

function http(o: MatchOpts = {}): HttpRequestMatch {
  const m: HttpRequestMatch = {
    kind: "http",
    path: o.path ?? { type: "PathPrefix", value: "/" },
    headers: [
      ...(o.headers ?? []).map(([name, value]) => ({ name, type: "Exact" as const, value })),
      ...(o.headerRegex ?? []).map(([name, value]) => ({ name, type: "RegularExpression" as const, value, matcher: compiled(value) })),
    ],
    queryParams: (o.query ?? []).map(([name, value]) => ({ name, type: "Exact" as const, value })),
  };
  if (o.method !== undefined) m.method = o.method;
  return m;
}
const exact = (value: string): PathMatch => ({ type: "Exact", value });
const prefix = (value: string): PathMatch => ({ type: "PathPrefix", value });
const regex = (value: string): PathMatch => ({ type: "RegularExpression", value, matcher: compiled(value) });

/** Patterns compile with the engine the simulator uses (RE2); a test pattern must compile. */
function compiled(pattern: string): RegexMatcher {
  const result = re2Engine.compile(pattern);
  if (!result.ok) throw new Error(`test pattern ${pattern} does not compile: ${result.reason}`);
  return result.matcher;
}

interface TestRoute extends MatchableRoute {
  rules: { id: string; matches: RequestMatch[] }[];
}

function route(name: string, rules: { id: string; matches: RequestMatch[] }[], extra: Partial<TestRoute> = {}): TestRoute {
  return { name, namespace: "ns", creationTimestamp: "2024-01-01T00:00:00Z", hostnames: [], rules, ...extra };
}
function req(path: string, extra: Partial<RouteRequest> = {}): RouteRequest {
  return { path, method: "GET", headers: {}, ...extra };
}
function winner(routes: TestRoute[], r: RouteRequest): string {
  const sel = findRoute(routes, r);
  return sel.matched ? `${sel.route.name}/${sel.rule.id}` : "404";
}

describe("path matching", () => {
  it.each([
    ["/", 1],
    ["/foo", 4],
    ["/foo/", 4],
  ])("prefix %s matches /foo, /foo/, /foo/bar and /foo/bar/qux with length %i", (pfx, len) => {
    for (const path of ["/foo", "/foo/", "/foo/bar", "/foo/bar/qux"]) expect(pathMatchLength(prefix(pfx), path)).toBe(len);
  });

  it("a prefix matches whole segments only: /foo does not match /foobar, but / does", () => {
    expect(pathMatchLength(prefix("/foo"), "/foobar")).toBeUndefined();
    expect(pathMatchLength(prefix("/foo/"), "/foobar")).toBeUndefined();
    expect(pathMatchLength(prefix("/"), "/foobar")).toBe(1);
  });

  it("an exact path matches only itself, with its length", () => {
    expect(pathMatchLength(exact("/foo/bar"), "/foo/bar")).toBe("/foo/bar".length);
    for (const path of ["/foo", "/foo/bah", "/foo/bar/qux", "/foo/bar/"]) expect(pathMatchLength(exact("/foo/bar"), path)).toBeUndefined();
  });

  it("a regex must match the whole path and scores the whole path length", () => {
    expect(pathMatchLength(regex("/foo/\\d+"), "/foo/4")).toBe("/foo/4".length);
    expect(pathMatchLength(regex("/foo/\\d+"), "/foo/4321")).toBe("/foo/4321".length);
    for (const path of ["/bar/foo/4", "/foo/4abc", "/foo/4/bar", "/foo/bar"]) expect(pathMatchLength(regex("/foo/\\d+"), path)).toBeUndefined();
  });

  it("a regex is tested by its leftmost match, so an alternation whose first branch is shorter misses", () => {
    // Upstream checks that `find` spans the whole path instead of anchoring the pattern.
    expect(pathMatchLength(regex("/foo|/foo/bar"), "/foo/bar")).toBeUndefined();
    expect(pathMatchLength(regex("/foo/bar|/foo"), "/foo/bar")).toBe(8);
  });
});

describe("header, query and method conditions", () => {
  it("header names compare case-insensitively and exact values case-sensitively", () => {
    const m = http({ headers: [["x-foo", "bar"]] });
    expect(summarizeMatch(m, req("/", { headers: { "X-Foo": "bar" } }))).toBeDefined();
    expect(summarizeMatch(m, req("/", { headers: { "x-foo": "Bar" } }))).toBeUndefined();
    expect(summarizeMatch(m, req("/", { headers: {} }))).toBeUndefined();
  });

  it("a header regex must match the whole value", () => {
    const m = http({ headerRegex: [["foo", "bar*"]] });
    expect(summarizeMatch(m, req("/", { headers: { foo: "bar" } }))).toBeDefined();
    expect(summarizeMatch(m, req("/", { headers: { foo: "barr" } }))).toBeDefined();
    expect(summarizeMatch(m, req("/", { headers: { foo: "barro" } }))).toBeUndefined();
  });

  it("query params need the name present with an equal value", () => {
    const m = http({ query: [["foo", "bar"]] });
    expect(summarizeMatch(m, req("/", { query: { foo: "bar", fah: "bah" } }))).toBeDefined();
    expect(summarizeMatch(m, req("/", { query: { foo: "bah" } }))).toBeUndefined();
    expect(summarizeMatch(m, req("/"))).toBeUndefined();
  });

  it("a method match compares the method exactly", () => {
    expect(summarizeMatch(http({ method: "POST" }), req("/", { method: "POST" }))).toEqual([1, 0, 0, 1]);
    expect(summarizeMatch(http({ method: "POST" }), req("/", { method: "GET" }))).toBeUndefined();
  });
});

describe("hostname matching", () => {
  it("an exact hostname matches ignoring case, port and a trailing dot", () => {
    for (const host of ["example.com", "EXAMPLE.com", "example.com.", "example.com:8080"]) {
      expect(matchHostname("example.com", host)).toEqual({ kind: "exact", length: 11 });
    }
    expect(matchHostname("example.com", "foo.example.com")).toBeUndefined();
    expect(matchHostname("example.com.", "example.com")).toBeUndefined();
  });

  it("a wildcard matches any deeper name but not the bare suffix", () => {
    expect(matchHostname("*.example.com", "foo.example.com")).toEqual({ kind: "suffix", length: ".example.com".length });
    expect(matchHostname("*.example.com", "bar.foo.EXAMPLE.com.")).toEqual({ kind: "suffix", length: ".example.com".length });
    expect(matchHostname("*.example.com", "example.com")).toBeUndefined();
    expect(matchHostname("*.example.com", "fooexample.com")).toBeUndefined();
  });

  it("a request without a host never matches a route that lists hostnames", () => {
    const routes = [route("r", [{ id: "a", matches: [http()] }], { hostnames: ["example.com"] })];
    expect(winner(routes, req("/"))).toBe("404");
  });
});

describe("precedence (documented order in route-match.ts)", () => {
  it("tie-break 1: an exact hostname beats a wildcard hostname on otherwise equal routes", () => {
    const routes = [
      route("wild", [{ id: "a", matches: [http({ path: exact("/foo") })] }], { hostnames: ["*.example.com"] }),
      route("exact", [{ id: "a", matches: [http({ path: exact("/foo") })] }], { hostnames: ["foo.example.com"] }),
    ];
    expect(winner(routes, req("/foo", { host: "foo.example.com" }))).toBe("exact/a");
  });

  it("tie-break 1: a longer wildcard suffix beats a shorter one", () => {
    const routes = [
      route("short", [{ id: "a", matches: [http()] }], { hostnames: ["*.example.com"] }),
      route("long", [{ id: "a", matches: [http()] }], { hostnames: ["*.foo.example.com"] }),
    ];
    expect(winner(routes, req("/", { host: "a.foo.example.com" }))).toBe("long/a");
  });

  it("tie-break 1: any hostname match beats a route without hostnames, even with a longer path", () => {
    const routes = [
      route("nohost", [{ id: "a", matches: [http({ path: exact("/very/long/path") })] }]),
      route("host", [{ id: "a", matches: [http()] }], { hostnames: ["*.example.com"] }),
    ];
    expect(winner(routes, req("/very/long/path", { host: "x.example.com" }))).toBe("host/a");
  });

  it("tie-break 2: the longer path match wins", () => {
    const routes = [
      route("a", [{ id: "prefix", matches: [http({ path: prefix("/foo") })] }]),
      route("b", [{ id: "exact", matches: [http({ path: exact("/foo/bar") })] }]),
    ];
    expect(winner(routes, req("/foo/bar"))).toBe("b/exact");
  });

  it("tie-break 2: Exact and PathPrefix of the same text tie on length, so the older route wins", () => {
    const older = route("z-prefix", [{ id: "p", matches: [http({ path: prefix("/foo") })] }], { creationTimestamp: "2024-01-01T00:00:00Z" });
    const newer = route("a-exact", [{ id: "e", matches: [http({ path: exact("/foo") })] }], { creationTimestamp: "2024-01-02T00:00:00Z" });
    expect(winner([newer, older], req("/foo"))).toBe("z-prefix/p");
  });

  it("tie-break 2: path length outranks header count", () => {
    const routes = [
      route("a", [{ id: "hdr", matches: [http({ path: prefix("/foo"), headers: [["x", "1"], ["y", "2"]] })] }]),
      route("b", [{ id: "long", matches: [http({ path: prefix("/foo/bar") })] }]),
    ];
    expect(winner(routes, req("/foo/bar", { headers: { x: "1", y: "2" } }))).toBe("b/long");
  });

  it("tie-break 3: more header matches win", () => {
    const routes = [
      route("a", [{ id: "two", matches: [http({ headers: [["x-foo", "bar"], ["x-baz", "qux"]] })] }]),
      route("b", [{ id: "three", matches: [http({ headers: [["x-foo", "bar"], ["x-baz", "qux"], ["x-biz", "qyx"]] })] }]),
    ];
    expect(winner(routes, req("/", { headers: { "x-foo": "bar", "x-baz": "qux", "x-biz": "qyx" } }))).toBe("b/three");
  });

  it("tie-break 3: header count outranks query params and method", () => {
    const routes = [
      route("a", [{ id: "qm", matches: [http({ query: [["q", "1"]], method: "GET" })] }]),
      route("b", [{ id: "hdr", matches: [http({ headers: [["x", "1"]] })] }]),
    ];
    expect(winner(routes, req("/", { headers: { x: "1" }, query: { q: "1" } }))).toBe("b/hdr");
  });

  it("tie-break 4: more query param matches win when path and headers tie", () => {
    const routes = [
      route("a", [{ id: "method", matches: [http({ method: "GET" })] }]),
      route("b", [{ id: "query", matches: [http({ query: [["q", "1"]] })] }]),
    ];
    expect(winner(routes, req("/", { query: { q: "1" } }))).toBe("b/query");
  });

  it("tie-break 5: a method match wins when everything else ties", () => {
    const routes = [route("a", [{ id: "any", matches: [http()] }]), route("b", [{ id: "get", matches: [http({ method: "GET" })] }])];
    expect(winner(routes, req("/"))).toBe("b/get");
  });

  it("tie-break 6: on a full tie the older route wins, then the lower name", () => {
    const rules = (id: string) => [{ id, matches: [http({ path: prefix("/api") })] }];
    const a = route("a", rules("a"), { creationTimestamp: "2024-05-01T00:00:00Z" });
    const b = route("b", rules("b"), { creationTimestamp: "2024-04-01T00:00:00Z" });
    expect(winner([a, b], req("/api/x"))).toBe("b/b");
    const c = route("c", rules("c"), { creationTimestamp: "2024-04-01T00:00:00Z" });
    expect(winner([c, a, b], req("/api/x"))).toBe("b/b");
  });

  it("tie-break 6: routes without a creationTimestamp sort after timestamped ones", () => {
    const noTs: TestRoute = { name: "a", namespace: "ns", hostnames: [], rules: [{ id: "x", matches: [http()] }] };
    const ts = route("z", [{ id: "y", matches: [http()] }]);
    expect(sortRoutes([noTs, ts]).map((r) => r.name)).toEqual(["z", "a"]);
    expect(winner([noTs, ts], req("/"))).toBe("z/y");
  });

  it("tie-break 6: the first of two identical rules in a route wins", () => {
    const routes = [
      route("a", [{ id: "first", matches: [] }, { id: "second", matches: [] }]),
      route("b", [{ id: "other", matches: [] }]),
    ];
    expect(winner(routes, req("/anything"))).toBe("a/first");
  });

  it("tie-break 6: the first of two tied matches in a rule is the one reported", () => {
    const p = http({ path: prefix("/abc") });
    const r = http({ path: regex("/abc") });
    const pick = (matches: RequestMatch[]) => {
      const sel = findRoute([route("a", [{ id: "x", matches }])], req("/abc"));
      return sel.matched ? sel.match : undefined;
    };
    expect(pick([p, r])).toBe(p);
    expect(pick([r, p])).toBe(r);
  });

  it("the reason names the winning route and mentions a tie", () => {
    const rules = [{ id: "x", matches: [http()] }];
    const sel = findRoute([route("a", rules), route("b", rules)], req("/"));
    expect(sel.matched && sel.reason).toContain("ns/a rule 0");
    expect(sel.matched && sel.reason).toContain("tied with 1");
  });
});

describe("no match and skipped routes", () => {
  it("a request no rule matches gets 404 no-route", () => {
    expect(findRoute([route("a", [{ id: "x", matches: [http({ path: prefix("/api") })] }])], req("/web"))).toEqual({ matched: false, status: 404, reason: "no-route" });
  });

  it("a route Linkerd never accepted is skipped", () => {
    const routes = [route("bad", [{ id: "x", matches: [http()] }], { accepted: false }), route("good", [{ id: "y", matches: [http({ path: prefix("/a") })] }])];
    expect(winner(routes, req("/a"))).toBe("good/y");
    expect(winner(routes, req("/b"))).toBe("404");
  });
});

describe("gRPC matches", () => {
  const grpc = (service?: string, method?: string): RequestMatch => ({ kind: "grpc", headers: [], ...(service ? { service } : {}), ...(method ? { method } : {}) });

  it("a gRPC match needs POST and compares service and method exactly", () => {
    expect(summarizeMatch(grpc("pkg.Svc", "Get"), req("/pkg.Svc/Get", { method: "POST" }))).toEqual([7, 3, 0]);
    expect(summarizeMatch(grpc("pkg.Svc", "Get"), req("/pkg.Svc/Get"))).toBeUndefined();
    expect(summarizeMatch(grpc("pkg.Svc"), req("/pkg.SvcX/Get", { method: "POST" }))).toBeUndefined();
    expect(summarizeMatch(grpc(), req("/pkg.Svc", { method: "POST" }))).toBeUndefined();
  });

  it("service+method beats service only", () => {
    const routes = [route("a", [{ id: "svc", matches: [grpc("pkg.Svc")] }], { kind: "GRPCRoute" }), route("b", [{ id: "both", matches: [grpc("pkg.Svc", "Get")] }], { kind: "GRPCRoute" })];
    expect(winner(routes, req("/pkg.Svc/Get", { method: "POST" }))).toBe("b/both");
    expect(winner(routes, req("/pkg.Svc/Put", { method: "POST" }))).toBe("a/svc");
  });
});

// ---- property tests ----

const segment = fc.constantFrom("a", "ab", "b", "api", "v1");
const pathArb = fc.array(segment, { minLength: 0, maxLength: 3 }).map((s) => `/${s.join("/")}`);
const pathMatchArb: fc.Arbitrary<PathMatch> = fc.oneof(
  pathArb.map(exact),
  pathArb.map(prefix),
  pathArb.map((p) => regex(`${p.replace(/\/$/, "")}(/.*)?`)),
);
const matchArb: fc.Arbitrary<HttpRequestMatch> = fc
  .record({
    path: pathMatchArb,
    header: fc.option(fc.constantFrom("1", "2"), { nil: undefined }),
    query: fc.option(fc.constantFrom("1", "2"), { nil: undefined }),
    method: fc.option(fc.constantFrom("GET", "POST"), { nil: undefined }),
  })
  .map(({ path, header, query, method }) =>
    http({ path, ...(header ? { headers: [["x", header]] } : {}), ...(query ? { query: [["q", query]] } : {}), ...(method ? { method } : {}) }),
  );
const routesArb = fc.array(
  fc.record({
    hostnames: fc.constantFrom([], ["example.com"], ["*.example.com"], ["foo.example.com"]),
    rules: fc.array(fc.array(matchArb, { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 5 },
);
const requestArb: fc.Arbitrary<RouteRequest> = fc
  .record({
    path: pathArb,
    host: fc.constantFrom("foo.example.com", "example.com", "bar.example.com"),
    method: fc.constantFrom("GET", "POST"),
    x: fc.constantFrom("1", "2"),
    q: fc.constantFrom("1", "2"),
  })
  .map(({ path, host, method, x, q }) => ({ path, host, method, headers: { x }, query: { q } }));

function build(spec: { hostnames: readonly string[]; rules: HttpRequestMatch[][] }[], stamps: number[]): TestRoute[] {
  return spec.map((s, i) => ({
    name: `r${i}`,
    namespace: "ns",
    creationTimestamp: `2024-01-01T00:00:0${stamps[i] ?? 0}Z`,
    hostnames: s.hostnames,
    rules: s.rules.map((matches, j) => ({ id: `${j}`, matches })),
  }));
}

describe("properties", () => {
  it("the chosen rule actually matches the request", () => {
    fc.assert(
      fc.property(routesArb, requestArb, (spec, r) => {
        const sel = findRoute(build(spec, []), r);
        if (!sel.matched) return;
        if (sel.route.hostnames.length > 0) expect(sel.route.hostnames.some((h) => matchHostname(h, r.host) !== undefined)).toBe(true);
        if (sel.match === undefined) expect(sel.rule.matches).toHaveLength(0);
        else expect(summarizeMatch(sel.match, r)).toEqual(sel.summary.request);
      }),
    );
  });

  it("reordering creation timestamps changes the winner only on exact ties", () => {
    fc.assert(
      fc.property(routesArb, requestArb, fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 5, maxLength: 5 }), (spec, r, stamps) => {
        const a = findRoute(build(spec, []), r);
        const b = findRoute(build(spec, stamps), r);
        expect(a.matched).toBe(b.matched);
        if (a.matched && b.matched && (a.route.name !== b.route.name || a.ruleIndex !== b.ruleIndex)) {
          expect(compareSummaries(a.summary, b.summary)).toBe(0);
        }
      }),
    );
  });

  it("prefix /a never matches /ab: a prefix only matches at a segment boundary", () => {
    const word = fc.stringMatching(/^[a-z0-9]{1,5}$/);
    fc.assert(
      fc.property(word, fc.stringMatching(/^[a-z0-9]$/), fc.stringMatching(/^[a-z0-9/]{0,6}$/), (a, c, rest) => {
        expect(pathMatchLength(prefix(`/${a}`), `/${a}${c}${rest}`)).toBeUndefined();
        expect(pathMatchLength(prefix(`/${a}/`), `/${a}${c}${rest}`)).toBeUndefined();
      }),
    );
  });
});
