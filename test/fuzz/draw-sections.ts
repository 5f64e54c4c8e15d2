// Draws for the scenario's own sections: distributions, rates and schedules, selectors, calls,
// traffic and behaviour fields, mesh settings, links, DNS records, the network and expectations,
// each set by its path from the top of the document.

import fc from "fast-check";
import type { Mutation, Seg } from "./mutations.js";
import { anyValue, DURATIONS, instant, NUMBERS, nameRef, numberish, RATES, STRINGS, URLS } from "./values.js";

/** A node of the document, taken modulo how many there are. */
export const pick = fc.nat(400);
/** A list element, taken modulo (list length + 1): the last appends. */
export const idx = fc.nat(7);

export const distribution: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...DURATIONS),
  fc.record({ dist: fc.constant("constant"), value: fc.constantFrom(...DURATIONS) }),
  fc.record({ dist: fc.constant("uniform"), min: fc.constantFrom(...DURATIONS), max: fc.constantFrom(...DURATIONS) }),
  fc.record({ dist: fc.constant("exponential"), mean: fc.constantFrom(...DURATIONS) }),
  fc.record({ dist: fc.constant("normal"), mean: fc.constantFrom(...DURATIONS), stddev: fc.constantFrom(...DURATIONS) }),
  fc.record({ dist: fc.constant("lognormal"), median: fc.constantFrom(...DURATIONS), p99: fc.constantFrom(...DURATIONS) }),
  fc.record({ dist: fc.constant("lognormal"), mu: fc.constantFrom(...NUMBERS), sigma: fc.constantFrom(...NUMBERS) }),
  fc.record({ dist: fc.constant("erlang"), k: fc.constantFrom(...NUMBERS), mean: fc.constantFrom(...DURATIONS) }),
  fc.record({
    dist: fc.constant("empirical"),
    percentiles: fc.constantFrom<unknown>({ 0: "1ms", 50: "4ms", 100: "50ms" }, { 50: "1ms" }, { 0: "5ms", 100: "1ms" }, { 0: "0s", 100: "2400h" }, {}, { "-1": "1ms", 101: "2ms" }),
  }),
  fc.record({ dist: fc.constantFrom("pareto", "", "CONSTANT"), value: fc.constantFrom(...DURATIONS) }),
);

const rateValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RATES) },
  { weight: 1, arbitrary: fc.constantFrom(...NUMBERS) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.oneof(
        fc.record({ at: instant, rate: fc.constantFrom(...RATES) }),
        fc.record({ at: instant, rampTo: fc.constantFrom(...RATES), over: fc.constantFrom(...DURATIONS) }),
        fc.record({ at: instant, rate: fc.constantFrom(...RATES), rampTo: fc.constantFrom(...RATES) }),
      ),
      { minLength: 0, maxLength: 4 },
    ),
  },
);

export const METHODS = ["GET", "POST", "get", "", "BREW", "PATCH", "CONNECT", "a b"] as const;
export const selector: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ deployment: nameRef("deployment") }, { requiredKeys: [] }),
  fc.record({ cluster: nameRef("cluster"), namespace: nameRef("namespace"), deployment: nameRef("deployment") }, { requiredKeys: [] }),
  fc.record({ deployment: fc.constantFrom(...STRINGS) }),
  fc.constantFrom<unknown>({}, null, "web", []),
);

const call: fc.Arbitrary<unknown> = fc.record(
  {
    to: fc.oneof(nameRef("url"), fc.constantFrom(...URLS)),
    method: fc.constantFrom(...METHODS),
    required: fc.constantFrom<unknown>(true, false, "yes"),
    protocol: fc.constantFrom("auto", "http", "grpc", "h3"),
    forwardHeaders: fc.constantFrom<unknown>(true, ["x-canary"], [], "all"),
  },
  { requiredKeys: ["to"] },
);

/** Fields of the scenario's own sections, set by path (numbers pick list elements). */
export const sectionEdit: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.constant<Seg[]>(["duration"]), value: fc.oneof(fc.constantFrom(...DURATIONS), instant) }),
  fc.record({ path: fc.constant<Seg[]>(["warmup"]), value: fc.oneof(instant, fc.constantFrom(...DURATIONS)) }),
  fc.record({ path: fc.constant<Seg[]>(["seed"]), value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...STRINGS)) }),
  fc.tuple(idx, fc.constantFrom("rate", "arrivals", "to", "requests", "protocol", "from", "name")).chain(([n, field]) =>
    fc.record({ path: fc.constant<Seg[]>(["traffic", n, field]), value: trafficValue(field) }),
  ),
  fc.tuple(idx, fc.constantFrom("latency", "concurrency", "queueLimit", "errors", "calls", "callMode", "routes", "select")).chain(([n, field]) =>
    fc.record({ path: fc.constant<Seg[]>(["behavior", n, field]), value: behaviorValue(field) }),
  ),
  fc.record({
    path: fc.constantFrom<Seg[]>(
      ["mesh", "proxy", "latency"], ["mesh", "controlPlane", "endpointsDelay"], ["mesh", "controlPlane", "watchDelay"],
      ["mesh", "controlPlane", "smiAdaptorDelay"], ["mesh", "controlPlane", "propagationDelay"], ["mesh", "failover", "reconcileDelay"],
    ),
    value: distribution,
  }),
  fc.record({
    path: fc.constantFrom<Seg[]>(
      ["mesh", "failover", "mode"], ["mesh", "failover", "successRate", "window"], ["mesh", "failover", "successRate", "threshold"],
      ["mesh", "failover", "successRate", "step"], ["mesh", "failover", "successRate", "interval"], ["mesh", "failover", "successRate", "minSamples"],
      ["mesh", "identity", "issuerValidity"], ["mesh", "identity", "leafLifetime"], ["mesh", "gateway", "concurrency"], ["mesh", "trustAnchor"],
      ["report", "timeline"], ["clusters", 0, "nodes"], ["clusters", 1, "nodes"], ["clusters", 0, "domain"], ["clusters", 0, "trustAnchor"],
      ["links", 0, "probePeriod"], ["dns", 0, "ttl"], ["dns", 0, "healthCheck", "interval"], ["dns", 0, "healthCheck", "failureThreshold"],
    ),
    value: fc.oneof(numberish, fc.constantFrom<unknown>("success-rate-ramp", "readiness", "", "x")),
  }),
  fc.record({
    path: fc.constantFrom<Seg[]>(["links", 7], ["links", 0]),
    value: fc.record({ from: nameRef("cluster"), to: nameRef("cluster"), probePeriod: fc.constantFrom(...DURATIONS), clusterName: fc.constantFrom(...STRINGS) }, { requiredKeys: ["from", "to"] }),
  }),
  fc.record({
    path: fc.constant<Seg[]>(["dns", 7]),
    value: fc.record({
      name: fc.constantFrom("auth.global", "", "web", "a.b.c"),
      ttl: fc.constantFrom(...DURATIONS),
      records: fc.array(fc.record({ cluster: nameRef("cluster"), service: fc.constantFrom("payments/auth", "shop/web", "x", "/", "a/b/c") }), { maxLength: 3 }),
    }),
  }),
  fc.record({
    path: fc.constant<Seg[]>(["network"]),
    value: fc.record({
      latency: distribution,
      between: fc.array(fc.record({ clusters: fc.tuple(nameRef("cluster"), nameRef("cluster")), latency: distribution }), { maxLength: 2 }),
    }, { requiredKeys: [] }),
  }),
  fc.record({
    path: fc.tuple(idx, fc.constantFrom("window", "metric", "where", "between", "atLeast", "reached", "failover", "seeds")).map(([n, f]): Seg[] => ["expect", n, f]),
    value: anyValue,
  }),
  fc.record({ path: fc.constant<Seg[]>(["params", "t"]), value: fc.constantFrom<unknown>("1s", 5, true, "${t}", null) }),
).map((r) => ({ op: "set" as const, ...(r as { path: Seg[]; value: unknown }) }));

function trafficValue(field: string): fc.Arbitrary<unknown> {
  switch (field) {
    case "rate":
      return rateValue;
    case "arrivals":
      return fc.oneof(
        fc.constantFrom<unknown>("poisson", "constant", "burst", {}),
        fc.record({ closedLoop: fc.record({ users: fc.constantFrom(...NUMBERS), thinkTime: distribution }) }),
      );
    case "to":
      return fc.oneof(nameRef("url"), fc.constantFrom(...URLS));
    case "requests":
      return fc.array(
        fc.record(
          {
            method: fc.constantFrom(...METHODS),
            path: fc.constantFrom("/", "", "api", "/api/list?x=1", "/%00", "/" + "a".repeat(500), "?", "/api/slow#x"),
            headers: fc.constantFrom<unknown>({ "x-canary": "true" }, { "": "x" }, { "X-Canary": 1 }, { "content-type": "application/grpc" }, []),
            query: fc.constantFrom<unknown>({ debug: "1" }, { "": "" }, { a: null }, { variant: "canary" }),
            weight: fc.constantFrom(...NUMBERS),
            bodyBytes: fc.constantFrom(...NUMBERS),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      );
    case "protocol":
      return fc.constantFrom<unknown>("auto", "http", "grpc", "GRPC", 2, null);
    case "from":
      return fc.record({ cluster: nameRef("cluster"), namespace: nameRef("namespace"), deployment: nameRef("deployment") }, { requiredKeys: [] });
    default:
      return fc.constantFrom(...STRINGS);
  }
}

function behaviorValue(field: string): fc.Arbitrary<unknown> {
  switch (field) {
    case "latency":
      return distribution;
    case "concurrency":
    case "queueLimit":
      return fc.constantFrom(...NUMBERS);
    case "errors":
      return fc.record(
        {
          rate: fc.constantFrom(...NUMBERS),
          status: fc.constantFrom(...NUMBERS),
          grpcStatus: fc.constantFrom<unknown>("UNAVAILABLE", "none", 14, 17, -1, "unavailable", ""),
          grpcStatusIn: fc.constantFrom("headers", "trailers", "streamed", "body"),
        },
        { requiredKeys: ["rate"] },
      );
    case "calls":
      return fc.array(call, { maxLength: 3 });
    case "callMode":
      return fc.constantFrom<unknown>("sequential", "parallel", "random", 1);
    case "routes":
      return fc.array(
        fc.record(
          {
            match: fc.record({ path: fc.constantFrom("/api/list", "", "/", "*"), method: fc.constantFrom(...METHODS) }, { requiredKeys: [] }),
            latency: distribution,
            errors: fc.record({ rate: fc.constantFrom(...NUMBERS), status: fc.constantFrom(...NUMBERS) }),
            calls: fc.array(call, { maxLength: 2 }),
            sideEffect: fc.boolean(),
          },
          { requiredKeys: ["match"] },
        ),
        { maxLength: 3 },
      );
    default:
      return selector;
  }
}
