import { describe, expect, it } from "vitest";
import { re2Engine } from "../../src/k8s/re2-engine.js";
import { parseHttpRoute } from "../../src/policy/http-route.js";
import { requestMatches } from "../../src/policy/profile-routes.js";
import type { RegexMatcher } from "../../src/policy/regex-engine.js";
import { pathMatchLength, regexMatchesWhole } from "../../src/policy/route-match.js";
import { parseServiceProfile } from "../../src/policy/service-profile.js";

function compile(pattern: string): RegexMatcher {
  const result = re2Engine.compile(pattern);
  if (!result.ok) throw new Error(`${pattern}: ${result.reason}`);
  return result.matcher;
}

function refusal(pattern: string): { problem: string; reason: string } | undefined {
  const result = re2Engine.compile(pattern);
  return result.ok ? undefined : { problem: result.problem, reason: result.reason };
}

const parentRefs = [{ group: "core", kind: "Service", name: "web", port: 80 }];
function httpRoute(match: Record<string, unknown>): unknown {
  return { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "r", namespace: "shop" }, spec: { parentRefs, rules: [{ matches: [match] }] } };
}
const pathRegexRoute = (value: string) => httpRoute({ path: { type: "RegularExpression", value } });
function profile(pathRegex: string): unknown {
  return { kind: "ServiceProfile", metadata: { name: "web.shop.svc.cluster.local", namespace: "shop" }, spec: { routes: [{ name: "r", condition: { pathRegex } }] } };
}

describe("linear-time matching", () => {
  // A backtracking engine (JavaScript's RegExp, meshsim's engine before RE2) takes time doubling
  // with every `a` here: about half a minute at 30, days at 40, per request, so with it this file
  // would hang. RE2, like Rust `regex`, walks the input once and answers in milliseconds.
  const evil = `${"a".repeat(40)}c`;

  it("(a+)+b against 40 a's and a c finds no match", () => {
    const m = compile("(a+)+b");
    expect(m.isMatch(evil)).toBe(false);
    expect(m.find(evil)).toBeUndefined();
  });

  it("the same pattern in an HTTPRoute path match and a ServiceProfile route misses the request", () => {
    const route = parseHttpRoute(pathRegexRoute("/(a+)+b"), re2Engine).value;
    const path = route.rules[0]?.matches[0];
    expect(path?.kind === "http" && pathMatchLength(path.path, `/${evil}`)).toBeUndefined();
    const sp = parseServiceProfile(profile("/(a+)+b"), { regexEngine: re2Engine }).value;
    const condition = sp.routes[0]?.condition;
    expect(condition && requestMatches(condition, { method: "GET", path: `/${evil}` })).toBe(false);
  });
});

describe("syntax Rust `regex` and RE2 share, which JavaScript spells differently or lacks", () => {
  it.each([
    ["(?P<id>[0-9]+)", "42", "4x"],
    ["(?<id>[0-9]+)", "42", "4x"],
    ["(?i)abc", "ABC", "abd"],
    ["a(?i:b)c", "aBc", "ABc"],
    ["(?s)a.b", "a\nb", "a\n\nb"],
    ["\\Aab\\z", "ab", "abc"],
    ["[[:upper:]]+", "AB", "Ab"],
    ["\\pL+", "héllo", "h3llo"],
    ["\\x{41}", "A", "B"],
    ["a\\-b\\#", "a-b#", "ab#"],
  ])("%s matches %j and not %j", (pattern, hit, miss) => {
    const m = compile(pattern);
    expect(regexMatchesWhole(m, hit)).toBe(true);
    expect(regexMatchesWhole(m, miss)).toBe(false);
  });
});

describe("what Rust `regex` refuses is refused, with what Linkerd does about it", () => {
  it.each([
    ["a backreference", "/(a)\\1", /backreference/],
    ["an octal escape", "/\\101", /octal/],
    ["a look-ahead", "/a(?=b)", /look-around/],
    ["a negative look-ahead", "/a(?!b)", /look-around/],
    ["a look-behind", "/(?<=a)b", /look-around/],
    ["\\Q...\\E quoting", "/\\Q.\\E", /\\Q/],
    ["a stray brace", "/a{,2}", /repetition count/],
    ["an unclosed group", "/(a", /missing closing \)/],
  ])("%s", (_name, pattern, reason) => {
    expect(refusal(pattern)).toMatchObject({ problem: "invalid", reason: expect.stringMatching(reason) });
    const parsed = parseHttpRoute(pathRegexRoute(pattern), re2Engine);
    expect(parsed.value.accepted).toBe(false);
    expect(parsed.diagnostics).toMatchObject([{ severity: "error", code: "route-regex-invalid", field: "spec.rules[0].matches[0].path.value" }]);
    expect(parsed.diagnostics[0]?.message).toContain("`kubectl apply` fails");
  });

  it("in a ServiceProfile the proxy drops the condition, and with it the route", () => {
    const parsed = parseServiceProfile(profile("/items/(?=7)"), { regexEngine: re2Engine });
    expect(parsed.value.routes).toEqual([]);
    expect(parsed.diagnostics.map((d) => d.code)).toEqual(["profile-route-regex-invalid", "profile-route-dropped"]);
    expect(parsed.diagnostics[0]?.message).toMatch(/look-around.*the proxy fails to compile it/);
  });
});

describe("Rust `regex` syntax that RE2 reads differently is never run", () => {
  it.each([
    ["a nested class", "[a[bc]]"],
    ["a class intersection", "[a-z&&[^x]]"],
    ["a class difference", "[a-z--x]"],
    ["a start-of-word assertion", "\\<a"],
    ["a \\b{start} assertion", "\\b{start}a"],
    ["the verbose flag", "(?x) a b"],
    ["the Unicode flag", "(?-u:a)"],
    ["a \\u escape", "\\u0041"],
    ["stacked repetitions", "a{2}{3}"],
    ["a count above RE2's 1000", "a{1001}"],
  ])("%s", (_name, pattern) => {
    expect(refusal(pattern)?.problem).toBe("unsupported");
    expect(parseHttpRoute(pathRegexRoute(pattern), re2Engine).diagnostics.map((d) => d.code)).toEqual(["route-regex-unsupported"]);
  });
});

describe("anchoring", () => {
  it("an HTTPRoute regex must match the whole path (linkerd2-proxy path.rs vectors)", () => {
    const route = parseHttpRoute(pathRegexRoute("/foo/\\d+"), re2Engine).value;
    const m = route.rules[0]?.matches[0];
    if (m?.kind !== "http") throw new Error("expected an HTTP match");
    expect(pathMatchLength(m.path, "/foo/4")).toBe("/foo/4".length);
    expect(pathMatchLength(m.path, "/foo/4321")).toBe("/foo/4321".length);
    for (const path of ["/bar/foo/4", "/foo/4abc", "/foo/4/bar", "/foo/bar"]) expect(pathMatchLength(m.path, path)).toBeUndefined();
  });

  it("the whole-value test uses the leftmost-first match, as Rust's find does", () => {
    expect(regexMatchesWhole(compile("a|ab"), "ab")).toBe(false);
    expect(regexMatchesWhole(compile("ab|a"), "ab")).toBe(true);
  });

  it("spans count UTF-16 units, so a character outside the BMP still spans the whole value", () => {
    expect(regexMatchesWhole(compile("."), "😀")).toBe(true);
    expect(compile("b").find("😀b")).toEqual({ start: 2, end: 3 });
  });

  it("a ServiceProfile pathRegex is anchored by the proxy, so it matches the whole path only", () => {
    const condition = parseServiceProfile(profile("/items"), { regexEngine: re2Engine }).value.routes[0]?.condition;
    if (condition === undefined) throw new Error("expected a route");
    expect(requestMatches(condition, { method: "GET", path: "/items" })).toBe(true);
    expect(requestMatches(condition, { method: "GET", path: "/items/3" })).toBe(false);
    expect(requestMatches(condition, { method: "GET", path: "/api/items" })).toBe(false);
  });
});
