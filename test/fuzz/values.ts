// The values the fuzzer writes into scenarios: extremes of each small language a scenario speaks
// (numbers, durations, rates, URLs, regexes, Linkerd annotation values), odd types, and
// references to names the scenario already uses, so a fault or a selector can hit something real.
// Each arbitrary is a `constantFrom` over a fixed table where it can be, so shrinking walks toward
// the table's first, plainest entry.

import fc from "fast-check";

/** A name the scenario itself uses, resolved when the mutation is applied (the n-th one found). */
export interface NameRef {
  $ref: "cluster" | "namespace" | "deployment" | "service" | "url" | "anchor";
  n: number;
}

export const isNameRef = (v: unknown): v is NameRef => typeof v === "object" && v !== null && "$ref" in v && "n" in v && Object.keys(v).length === 2;

export const nameRef = (kind: NameRef["$ref"]): fc.Arbitrary<NameRef> => fc.nat(15).map((n) => ({ $ref: kind, n }));

export const NUMBERS: readonly number[] = [
  0, -1, 1, 0.5, 1e308, -1e308, 2147483647, 2147483648, 4294967296, 2 ** 53, 2 ** 53 + 2, 1e21, 5e-324, 1e-9, -0.0001, 65535, 65536,
  100, 1000, 1e6, 1e9, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
];

/** Strings a number field might get: spellings that look numeric to someone, or to some parser. */
export const NUMERIC_STRINGS: readonly string[] = [
  "NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e309", "0x10", "0o17", "1_000", "+5", "--1", "1e", "1.5.5", "", " ", "0", "-0",
  "100m", "1k", "2Gi", "9007199254740993", "18446744073709551616", "0.1", "1e-400",
];

export const DURATIONS: readonly string[] = [
  "0s", "1us", "0.5us", "0.0001us", "1e-9s", "10ms", "1s", "2400h", "99999999h", "1e308h", "1e300us", "-5s", "5", "5 s", "1h1h", "1m30",
  "1.5.5s", "ms", "9007199254740993us", "18446744073709551616us", "0.000000000001s", "1d", "1w", "PT1S", "1s ", " 1s", "1S", "1µs", "1ns",
];

export const RATES: readonly string[] = [
  "0/s", "1/s", "0.0001/s", "1/h", "1e9/s", "1e308/s", "999999999999/s", "-1/s", "NaN/s", "Infinity/s", "5/ms", "/s", "1e-300/s", "3/d",
  "1.5/s", "10 / s", "100",
];

export const URLS: readonly string[] = [
  "http://", "http://web", "https://web.shop.svc.cluster.local/", "http://web.shop.svc.cluster.local:0/", "http://web.shop.svc.cluster.local:65536/x",
  "http://web.shop.svc.cluster.local:99999999999999999999/", "http://[::1]:80/", "http://user:pw@web/", "ftp://web/", "http://web/%ZZ", "http://web/?",
  "http://web/#frag", "http://WEB.SHOP/", "http://-/", "http://web.shop.svc.cluster.local/" + "a".repeat(2000), "//web/", "web", "http://a..b/",
];

/** Path regexes for ServiceProfile `pathRegex` and HTTPRoute `RegularExpression` matches. */
export const REGEXES: readonly string[] = [
  "/api", ".*", "^/api/.*$", "(a+)+$", "^(a|a)*$", "(x+x+)+y", "[", "(", ")", "\\", "*", "a{1000000}", "a{2,1}", "(?i)/API", "(?P<n>a)", "(?<n>a)\\k<n>",
  "\\p{L}+", "(?=x)", "\\d{1,3}", "[^/]*/[^/]*", "", "$^", "/api/(list|slow|hang)", "\\Q.*\\E", "[[:alpha:]]+", "\\b", "x".repeat(3000),
];

/** Odd strings for any text field: empty, blank, control characters, long, path-like, template-like. */
export const STRINGS: readonly string[] = [
  "", " ", "x", "Ünïcödé", "a b", "\t", "line\nbreak", "${nope}", "$${x}", "${", "*", "?", "../../etc/passwd", "/etc/hostname", "default",
  "kube-system", "-", "_", "UPPER", "a".repeat(300), "toString", "__proto__", "constructor", "hasOwnProperty", "null", "true", "~", "0",
  "{}", "[]", "&a", "*a", "!!binary", "\u0000", "\u202e", "a/b", "a.b", "http://x/",
];

/** `linkerd.io` annotation keys Linkerd reads (and some it does not simulate). */
export const ANNOTATION_KEYS: readonly string[] = [
  "retry.linkerd.io/http", "retry.linkerd.io/grpc", "retry.linkerd.io/limit", "retry.linkerd.io/timeout", "timeout.linkerd.io/request",
  "timeout.linkerd.io/response", "timeout.linkerd.io/idle", "balancer.linkerd.io/failure-accrual",
  "balancer.linkerd.io/failure-accrual-consecutive-max-failures", "balancer.linkerd.io/failure-accrual-consecutive-min-penalty",
  "balancer.linkerd.io/failure-accrual-consecutive-max-penalty", "balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio",
  "linkerd.io/inject", "config.linkerd.io/skip-outbound-ports", "config.linkerd.io/opaque-ports", "config.linkerd.io/default-inbound-policy",
  "config.linkerd.io/proxy-outbound-connect-timeout", "config.linkerd.io/proxy-cpu-limit", "config.linkerd.io/proxy-log-level",
  "mirror.linkerd.io/exported", "failover.linkerd.io/primary-service", "failover.linkerd.io/controlled-by", "smi.linkerd.io/skip",
  "mirror.linkerd.io/probe-period", "linkerd.io/unknown",
];

export const ANNOTATION_VALUES: readonly string[] = [
  "5xx", "500-599", "500, 503", "500,503", "gateway-error", "500-", "-599", "599-500", "600", "99", "1000-1", "cancelled,unavailable",
  "unavailable", "UNAVAILABLE", "internal ,", "0", "1", "-1", "2", "10", "4294967296", "1e308", "NaN", "abc", "", " ", "0s", "1us", "10ms",
  "1.5s", "2400h", "99999999999h", "-1s", "1ms1ms", "true", "false", "enabled", "disabled", "ingress", "consecutive", "all-unauthenticated",
  "0.5", "1.0", "2.0", "-0.5", "80,443", "1-65535", "0-99999", "linkerd-failover", "auth", "debug",
];

export const BOOLEANS_AND_NULLS: readonly unknown[] = [true, false, null];

/** A value of any type: the generic replacement for a field. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMERIC_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 1, arbitrary: fc.constantFrom(...RATES) },
  { weight: 2, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...BOOLEANS_AND_NULLS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}, [[]], [{}], { a: 1 }, [1, "x"]) },
  { weight: 1, arbitrary: nameRef("deployment") },
);

/** A value for a field that holds a number, a duration or a rate. */
export const numberish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMERIC_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 2, arbitrary: fc.constantFrom(...RATES) },
);

/** An instant for a fault or a schedule point: mostly inside a short run, sometimes extreme. */
export const instant: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("0s", "1ms", "50ms", "100ms", "200ms", "250ms", "300ms", "500ms", "1s") },
  { weight: 1, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(0, -1, 1e308, Number.NaN, "${t}") },
);
