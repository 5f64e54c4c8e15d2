import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import {
  DEFAULT_PROFILE_ROUTE,
  type ProfileRoute,
  type RequestMatch,
  compilePathRegex,
  matchProfileRoute,
  requestMatches,
} from "../../src/policy/profile-routes.js";

function route(name: string, condition: RequestMatch): ProfileRoute {
  return { name, condition, responseClasses: [], isRetryable: false, retriesEnabled: false };
}

function path(raw: string): RequestMatch {
  const compiled = compilePathRegex(raw, re2Engine);
  if (!compiled.ok) throw new Error(compiled.reason);
  return { kind: "path", pattern: compiled.pattern, matcher: compiled.matcher };
}

const method = (m: string): RequestMatch => ({ kind: "method", method: m });

describe("matchProfileRoute", () => {
  const routes = [route("items", path("/items/.*")), route("item-7", path("/items/7")), route("posts", method("POST"))];

  it("the first matching route in list order wins, even if a later one is more specific", () => {
    const d = matchProfileRoute(routes, { method: "GET", path: "/items/7" });
    expect(d.route.name).toBe("items");
    expect(d.index).toBe(0);
  });

  it("a request no route matches takes the implicit default route", () => {
    const d = matchProfileRoute(routes, { method: "GET", path: "/other" });
    expect(d.route).toBe(DEFAULT_PROFILE_ROUTE);
    expect(d.index).toBeUndefined();
    expect(d.route.retriesEnabled).toBe(false);
    expect(d.route.timeoutUs).toBeUndefined();
    expect(d.route.responseClasses).toEqual([]);
    expect(d.reason).toContain("default route");
  });

  it("a profile without routes sends everything to the default route", () => {
    expect(matchProfileRoute([], { method: "GET", path: "/" }).index).toBeUndefined();
  });

  it("the path regex sees the path only, not the query string", () => {
    expect(matchProfileRoute([route("exact", path("/search"))], { method: "GET", path: "/search?q=/x" }).index).toBe(0);
  });

  it("the regex must match the whole path because it is anchored", () => {
    expect(matchProfileRoute([route("p", path("/items"))], { method: "GET", path: "/items/3" }).index).toBeUndefined();
  });

  it("method matching is exact: a lower-case request method is a different method", () => {
    expect(requestMatches(method("GET"), { method: "get", path: "/" })).toBe(false);
    expect(requestMatches(method("GET"), { method: "GET", path: "/" })).toBe(true);
  });

  it("an empty `all` matches every request and an empty `any` none; `not` inverts", () => {
    const req = { method: "GET", path: "/" };
    expect(requestMatches({ kind: "all", matches: [] }, req)).toBe(true);
    expect(requestMatches({ kind: "any", matches: [] }, req)).toBe(false);
    expect(requestMatches({ kind: "not", match: method("GET") }, req)).toBe(false);
  });

  it("property: the chosen route is the first one whose condition matches", () => {
    const methods = ["GET", "POST", "PUT"];
    const cond = fc.oneof(
      fc.constantFrom(...methods).map(method),
      fc.constant<RequestMatch>({ kind: "all", matches: [] }),
      fc.constant<RequestMatch>({ kind: "any", matches: [] }),
    );
    fc.assert(
      fc.property(fc.array(cond, { maxLength: 6 }), fc.constantFrom(...methods), (conds, m) => {
        const rs = conds.map((c, i) => route(`r${i}`, c));
        const expected = conds.findIndex((c) => c.kind === "all" || (c.kind === "method" && c.method === m));
        const d = matchProfileRoute(rs, { method: m, path: "/" });
        expect(d.index).toBe(expected < 0 ? undefined : expected);
      }),
    );
  });
});

describe("compilePathRegex: the proxy's anchoring, then Rust `regex` syntax (run on RE2)", () => {
  it.each([
    ["named group (?P<id>...)", "/users/(?P<id>[0-9]+)", "/users/42", "/users/x"],
    ["named group (?<id>...)", "/users/(?<id>[0-9]+)", "/users/42", "/users/x"],
    ["escaped hyphen outside a class", "/a\\-b", "/a-b", "/ab"],
    ["escaped # and ~", "/\\#\\~", "/#~", "/"],
    ["POSIX class", "/[[:digit:]]+", "/123", "/12a"],
    ["leading inline case-insensitive flag", "(?i)/API", "/api", "/apx"],
    ["scoped inline flags (?i:...)", "/(?i:api)/v1", "/API/v1", "/API/V1"],
    ["dot matches newline under (?s)", "(?s)/a.b", "/a\nb", "/a\nxb"],
    ["\\A and \\z anchors", "\\A/x\\z", "/x", "/xy"],
    ["a ] right after [ is a literal", "/[]a]", "/]", "/b"],
    ["\\pL shorthand", "/\\pL+", "/abc", "/123"],
    ["\\x{...} escape", "/\\x{41}", "/A", "/B"],
  ])("%s", (_name, raw, hit, miss) => {
    const r = compilePathRegex(raw, re2Engine);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.matcher.isMatch(hit)).toBe(true);
    expect(r.matcher.isMatch(miss)).toBe(false);
  });

  it.each([
    ["look-ahead", "/(?=a)a"],
    ["look-behind", "/(?<=a)b"],
    ["backreference", "/(a)\\1"],
    ["octal escape", "/\\101"],
    ["unbalanced group", "/(a"],
    ["a brace that starts no repetition count", "/a{b}"],
  ])("%s does not compile in Rust `regex`, so the proxy discards the condition", (_name, raw) => {
    const r = compilePathRegex(raw, re2Engine);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toBe("invalid");
  });

  it.each([
    ["a nested class", "/[a[bc]]"],
    ["a class intersection", "/[a-z&&[^x]]"],
    ["a Rust word-boundary escape", "/\\<a"],
    ["the verbose flag", "(?x)/a b"],
  ])("%s is valid Rust `regex` that RE2 reads differently: reported as unsupported, never run", (_name, raw) => {
    const r = compilePathRegex(raw, re2Engine);
    expect(!r.ok && r.problem).toBe("unsupported");
  });

  it("anchors are glued on textually, so a top-level alternation binds them to its ends", () => {
    const r = compilePathRegex("/a|/b", re2Engine);
    expect(r.ok && r.pattern).toBe("^/a|/b$");
    expect(r.ok && r.anchorSplitsAlternation).toBe(true);
    // "^/a|/b$" matches any path that starts with /a, not just "/a".
    expect(r.ok && r.matcher.isMatch("/abc")).toBe(true);
    const grouped = compilePathRegex("(/a|/b)", re2Engine);
    expect(grouped.ok && grouped.anchorSplitsAlternation).toBe(false);
    expect(grouped.ok && grouped.matcher.isMatch("/abc")).toBe(false);
  });

  it("a `|` inside a group or a class does not split the anchors", () => {
    for (const raw of ["/(a|b)", "/[|]", "/\\|x", "/[]|]x"]) expect(compilePathRegex(raw, re2Engine)).toMatchObject({ ok: true, anchorSplitsAlternation: false });
  });

  it("a pattern ending in an escaped `\\$` counts as anchored, so no `$` is added (the proxy only looks at the last character)", () => {
    const r = compilePathRegex("/price\\$", re2Engine);
    expect(r.ok && r.pattern).toBe("^/price\\$");
    expect(r.ok && r.matcher.isMatch("/price$/extra")).toBe(true);
  });
});
