// Every class of bad scenario input comes back as an InputError naming the file, the line and
// column of the offending text, the field path, and where possible what was meant. Positions are
// computed from the YAML text itself (where the offending token is), not pasted from output.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { InputError } from "../../src/k8s/input-error.js";
import { loadScenario, type LoadOptions } from "../../src/scenario/load.js";
import { memoryReader, positionOf } from "./memory-reader.js";

const FILE = "/s/scenario.yaml";

const BASE = `name: t
seed: 1
duration: 10s
clusters:
  - name: east
    services:
      - {name: client}
      - {name: server}
behavior:
  - select: {deployment: server}
    concurrency: 4
traffic:
  - name: load
    from: {namespace: default, deployment: client}
    to: http://server.default.svc.cluster.local/
    rate: 100/s
`;

/** Two linked clusters, a failover-controlled TrafficSplit in east and an expectation watching it. */
const MULTI = `name: mc
seed: 1
duration: 10m
clusters:
  - name: east
    services:
      - {name: auth, namespace: payments}
    objects:
      - apiVersion: split.smi-spec.io/v1alpha2
        kind: TrafficSplit
        metadata: {name: auth, namespace: payments}
        spec: {service: auth, backends: [{service: auth, weight: 1}, {service: auth-west, weight: 0}]}
  - name: west
    services:
      - {name: auth, namespace: payments}
  - name: central
links:
  - {from: east, to: west}
expect:
  - name: fails over
    failover: {trafficSplit: payments/auth, cluster: east, after: 2m, within: 10s}
`;

function errorsOf(yaml: string, opts: LoadOptions = {}, extraFiles: Record<string, string> = {}): InputError[] {
  const r = loadScenario(FILE, memoryReader({ [FILE]: yaml, ...extraFiles }), opts);
  if (r.ok) throw new Error("expected the scenario to be refused");
  return r.errors;
}

const ALIAS_BOMB = `${BASE}x-a: &a [x, x, x, x, x, x, x, x, x, x]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
x-d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
`;

interface Case {
  what: string;
  yaml: string;
  opts?: LoadOptions;
  path: string;
  /** The text the error must point at, and which occurrence of it. */
  at: string;
  nth?: number;
  message: RegExp;
  suggestion?: string;
  expected?: RegExp;
}

const cases: Case[] = [
  {
    what: "a misspelt key is unknown, with the key it resembles",
    yaml: BASE.replace("concurrency: 4", "concurrancy: 4"),
    path: "behavior[0].concurrancy",
    at: "concurrancy",
    message: /unknown key "concurrancy"/,
    suggestion: "concurrency",
    expected: /concurrency, queueLimit/,
  },
  {
    what: "a duration without a unit says so",
    yaml: BASE.replace("duration: 10s", "duration: 5"),
    path: "duration",
    at: "5\n",
    message: /5 has no unit/,
    expected: /300ms/,
  },
  {
    what: "a zero period is refused: it would repeat forever at one instant",
    yaml: `${BASE}report: {timeline: 0s}\n`,
    path: "report.timeline",
    at: "0s}",
    message: /must be longer than 0/,
  },
  {
    what: "a zero DNS health-check interval is refused",
    yaml: `${BASE}dns:\n  - name: api.example.com\n    records: [{cluster: east, service: default/server}]\n    healthCheck: {interval: 0s}\n`,
    path: "dns[0].healthCheck.interval",
    at: "0s}",
    message: /must be longer than 0/,
  },
  {
    what: "an unknown fault kind lists the kinds",
    yaml: `${BASE}faults:\n  - {at: 1s, explode: {select: {deployment: server}}}\n`,
    path: "faults[0].explode",
    at: "explode",
    message: /unknown key "explode"/,
    expected: /killPods, scale, degrade/,
  },
  {
    what: "a misspelt fault kind suggests the right one",
    yaml: `${BASE}faults:\n  - {at: 1s, killPod: {select: {deployment: server}}}\n`,
    path: "faults[0].killPod",
    at: "killPod",
    message: /unknown key "killPod"/,
    suggestion: "killPods",
  },
  {
    what: "__proto__ is refused wherever it appears",
    yaml: BASE.replace("concurrency: 4", "concurrency: 4\n    __proto__: {polluted: true}"),
    path: "",
    at: "__proto__",
    message: /"__proto__" is not allowed/,
  },
  {
    what: "an alias bomb is refused before it expands",
    yaml: ALIAS_BOMB,
    path: "",
    at: "*a",
    message: /alias expansion is too large/,
  },
  {
    what: "more than 100 aliases are refused",
    yaml: `${BASE}x-a: &a 1\nx-list: [${Array.from({ length: 101 }, () => "*a").join(", ")}]\n`,
    path: "",
    at: "*a",
    nth: 100,
    message: /more than 100 aliases/,
  },
  {
    what: "an absurd event count is refused with the estimate and what to change",
    yaml: BASE.replace("duration: 10s", "duration: 1000h").replace("rate: 100/s", "rate: 1000000/s"),
    path: "duration",
    at: "duration",
    message: /about 3\.6e13 events .* shorten duration or lower the traffic rates/,
  },
  {
    what: "an unknown --set key is refused with the declared name it resembles",
    yaml: BASE.replace("seed: 1", "seed: 1\nparams: {rate: 100/s}").replace("rate: 100/s\n", "rate: ${rate}\n"),
    opts: { set: { ratee: "200/s" } },
    path: "params.ratee",
    at: "params",
    message: /--set ratee: the scenario declares no param "ratee"/,
    suggestion: "rate",
  },
  {
    what: "a --set value that is not a number, for a param declared as a number, is refused at the param",
    yaml: BASE.replace("seed: 1", "seed: 1\nparams: {workers: 4}").replace("concurrency: 4", "concurrency: ${workers}"),
    opts: { set: { workers: "four" } },
    path: "params.workers",
    at: "4}",
    message: /^--set workers=four: workers is declared as a number \(4\), and "four" is not one$/,
    expected: /^a number$/,
  },
  {
    what: "traffic to a Service that does not exist is refused at to:, with the Service it resembles",
    yaml: BASE.replace("http://server.default", "http://srever.default"),
    path: "traffic[0].to",
    at: "http://srever",
    message: /^traffic "load" calls Service default\/srever, which does not exist in cluster east$/,
    suggestion: "http://server.default.svc.cluster.local/",
  },
  {
    what: "traffic from a deployment that does not exist names the one it resembles",
    yaml: BASE.replace("deployment: client}", "deployment: clinet}"),
    path: "traffic[0].from.deployment",
    at: "clinet",
    message: /no deployment "clinet" in namespace default in cluster east/,
    suggestion: "client",
  },
  {
    what: "a reference to an undeclared param points at the reference",
    yaml: BASE.replace("seed: 1", "seed: 1\nparams: {rate: 100/s}").replace("rate: 100/s\n", "rate: ${rat}\n"),
    path: "traffic[0].rate",
    at: "${rat}",
    message: /\$\{rat\} refers to no declared param/,
    suggestion: "rate",
  },
  {
    what: "a distribution's p99 below its median is reported at p99",
    yaml: BASE.replace("concurrency: 4", "latency: {dist: lognormal, median: 10ms, p99: 5ms}"),
    path: "behavior[0].latency.p99",
    at: "5ms",
    message: /p99 ≥ median/,
  },
  {
    what: "a misspelt distribution parameter suggests the right one",
    yaml: BASE.replace("concurrency: 4", "latency: {dist: constant, valeu: 1ms}"),
    path: "behavior[0].latency.valeu",
    at: "valeu",
    message: /unknown key "valeu"/,
    suggestion: "value",
  },
  {
    what: "a missing required key is reported at the mapping that lacks it",
    yaml: BASE.replace("seed: 1\n", ""),
    path: "seed",
    at: "name",
    message: /missing required key "seed"/,
  },
  {
    what: "a wrong type says what was expected and what was found",
    yaml: BASE.replace("concurrency: 4", "concurrency: many"),
    path: "behavior[0].concurrency",
    at: "many",
    message: /expected a number, got "many"/,
  },
  {
    what: "an expectation window beyond the run is refused",
    yaml: `${BASE}expect:\n  - {name: ok, metric: successRate, window: [5s, 20s], atLeast: 0.99}\n`,
    path: "expect[0].window[1]",
    at: "20s",
    message: /window end 20s lies after the end of the run \(duration 10s\)/,
  },
  {
    what: "a misspelt arrival process suggests the right one",
    yaml: BASE.replace("rate: 100/s", "arrivals: poison\n    rate: 100/s"),
    path: "traffic[0].arrivals",
    at: "poison",
    message: /expected poisson, constant or \{closedLoop/,
    suggestion: "poisson",
  },
  {
    what: "a rate without a unit suggests per second",
    yaml: BASE.replace("rate: 100/s", 'rate: "100"'),
    path: "traffic[0].rate",
    at: '"100"',
    message: /write 100\/s for per second/,
  },
  {
    what: "an https target is refused with the reason",
    yaml: BASE.replace("to: http://server", "to: https://server"),
    path: "traffic[0].to",
    at: "https://",
    message: /not an http URL; the simulated mesh speaks plain http/,
  },
  {
    what: "a misspelt metric suggests the right one",
    yaml: `${BASE}expect:\n  - {name: ok, metric: retryratio, atMost: 0.1}\n`,
    path: "expect[0].metric",
    at: "retryratio",
    message: /"retryratio" is not allowed here/,
    suggestion: "retryRatio",
  },
  {
    what: "latencyAbove without a threshold says it needs one",
    yaml: `${BASE}expect:\n  - {name: slow, metric: latencyAbove, atMost: 0.1}\n`,
    path: "expect[0].threshold",
    at: "{name: slow",
    message: /latencyAbove needs a threshold: the latency a request must exceed to count/,
    expected: /a duration such as 50ms/,
  },
  {
    what: "a threshold on another metric is refused where it is written",
    yaml: `${BASE}expect:\n  - {name: slow, metric: latencyP99, threshold: 50ms, atMost: 80}\n`,
    path: "expect[0].threshold",
    at: "50ms",
    message: /threshold applies only to metric: latencyAbove, not latencyP99/,
  },
  {
    what: "a call probability above 1 is refused",
    yaml: BASE.replace("concurrency: 4", "concurrency: 4\n    calls: [{to: http://client.default.svc.cluster.local/, probability: 1.5}]"),
    path: "behavior[0].calls[0].probability",
    at: "1.5",
    message: /must be ≤ 1 \(got 1\.5\)/,
  },
  {
    what: "a fault selecting a cluster that does not exist names the one it resembles",
    yaml: `${BASE}faults:\n  - {at: 1s, killPods: {select: {cluster: eats}}}\n`,
    path: "faults[0].killPods.select.cluster",
    at: "eats",
    message: /there is no cluster "eats"/,
    suggestion: "east",
  },
  {
    what: "a fault with no kind says it needs one",
    yaml: `${BASE}faults:\n  - {at: 1s}\n`,
    path: "faults[0]",
    at: "{at: 1s}",
    message: /a fault needs a kind/,
    expected: /killPods/,
  },
  {
    what: "a fault after the end of the run is refused",
    yaml: `${BASE}faults:\n  - {at: 20s, killPods: {select: {deployment: server}}}\n`,
    path: "faults[0].at",
    at: "20s",
    message: /starts at 20s, not before the end of the run/,
  },
  {
    what: "schedule points out of time order are refused at the later point",
    yaml: BASE.replace("rate: 100/s", "rate:\n      - {at: 5s, rate: 10/s}\n      - {at: 2s, rate: 20/s}"),
    path: "traffic[0].rate[1].at",
    at: "2s",
    message: /in time order/,
  },
  {
    what: "a manifest pattern that matches nothing is reported where it is written",
    yaml: BASE.replace("    services:", "    manifests: [k8s/*.yaml]\n    services:"),
    path: "clusters[0].manifests[0]",
    at: "k8s/*.yaml",
    message: /matches no file/,
  },
  {
    what: "duplicate keys are a YAML error at the second one",
    yaml: BASE.replace("seed: 1", "seed: 1\nseed: 2"),
    path: "",
    at: "seed",
    nth: 1,
    message: /unique/,
  },
  {
    what: "YAML syntax errors keep their position",
    yaml: BASE.replace("duration: 10s", "duration: 10s: 5"),
    path: "",
    at: "10s: 5",
    message: /Nested mappings are not allowed/,
  },
  {
    what: "an alias without an anchor is reported at the alias",
    yaml: BASE.replace("seed: 1", "seed: *nope"),
    path: "",
    at: "*nope",
    message: /\*nope refers to no anchor/,
  },
  {
    what: "a scalar where a mapping belongs is named in YAML's words",
    yaml: `${BASE}mesh: 5\n`,
    path: "mesh",
    at: "5\n",
    message: /expected a mapping, got 5/,
  },
  {
    what: "an empty cluster list says how many entries it needs",
    yaml: BASE.replace(/clusters:[\s\S]*?behavior:/, "clusters: []\nbehavior:"),
    path: "clusters",
    at: "clusters",
    message: /needs at least 1 entry/,
  },
  {
    what: "a link from a cluster that does not exist names the one it resembles",
    yaml: MULTI.replace("{from: east, to: west}", "{from: eats, to: west}"),
    path: "links[0].from",
    at: "eats",
    message: /there is no cluster "eats"/,
    suggestion: "east",
    expected: /east, west, central/,
  },
  {
    what: "a link to a cluster that does not exist names the one it resembles",
    yaml: MULTI.replace("{from: east, to: west}", "{from: east, to: wset}"),
    path: "links[0].to",
    at: "wset",
    message: /there is no cluster "wset"/,
    suggestion: "west",
  },
  {
    what: "a link from a cluster to itself is refused at its target",
    yaml: MULTI.replace("{from: east, to: west}", "{from: west, to: west}"),
    path: "links[0].to",
    at: "west}",
    message: /a link joins two different clusters; west cannot mirror itself/,
  },
  {
    what: "the same two clusters linked twice are refused at the second link",
    yaml: MULTI.replace("  - {from: east, to: west}\n", "  - {from: east, to: west}\n  - {from: east, to: west, probePeriod: 1s}\n"),
    path: "links[1]",
    at: "{from: east, to: west, probePeriod: 1s}",
    message: /east is linked to west twice \(first at links\[0\]\)/,
  },
  {
    what: "two links into one cluster under the same cluster name are refused at the second name",
    yaml: MULTI.replace("  - {from: east, to: west}\n", "  - {from: east, to: west}\n  - {from: east, clusterName: west, to: central}\n"),
    path: "links[1].clusterName",
    at: "west, to: central",
    message: /cluster name "west" is already used by links\[0\] in east/,
  },
  {
    what: "a failover expectation in a cluster that does not exist names the one it resembles",
    yaml: MULTI.replace("cluster: east, after", "cluster: eats, after"),
    path: "expect[0].failover.cluster",
    at: "eats",
    message: /there is no cluster "eats"/,
    suggestion: "east",
  },
  {
    what: "a failover expectation on a TrafficSplit that does not exist names the one it resembles",
    yaml: MULTI.replace("trafficSplit: payments/auth", "trafficSplit: payments/auht"),
    path: "expect[0].failover.trafficSplit",
    at: "payments/auht",
    message: /there is no TrafficSplit payments\/auht in cluster east/,
    suggestion: "payments/auth",
    expected: /one of payments\/auth/,
  },
  {
    what: "a failover expectation on a TrafficSplit of another cluster says where it is",
    yaml: MULTI.replace("cluster: east, after", "cluster: west, after"),
    path: "expect[0].failover.trafficSplit",
    at: "payments/auth",
    message: /there is no TrafficSplit payments\/auth in cluster west \(it is in east\)/,
    expected: /a TrafficSplit in cluster west/,
  },
  {
    what: "a failover expectation with both within and never is refused at never",
    yaml: MULTI.replace("within: 10s}", "within: 10s, never: true}"),
    path: "expect[0].failover.never",
    at: "true}",
    message: /give within or atLeast, or never, not both/,
  },
  {
    what: "a failover expectation with atLeast and never is refused at never",
    yaml: MULTI.replace("within: 10s}", "atLeast: 1s, never: true}"),
    path: "expect[0].failover.never",
    at: "true}",
    message: /give within or atLeast, or never, not both/,
  },
  {
    what: "a failover expectation with neither within, atLeast nor never says it needs one",
    yaml: MULTI.replace(", within: 10s}", "}"),
    path: "expect[0].failover",
    at: "failover:",
    message: /a failover expectation needs within, atLeast or never/,
    expected: /within: <duration> and\/or atLeast: <duration> .* or never: true/,
  },
  {
    what: "a gateway named as a server where no link targets its cluster is refused: that cluster runs none",
    yaml: `${MULTI}  - {name: gateway load, metric: requests, where: {server: east/linkerd-multicluster/linkerd-gateway}, atLeast: 1}\n`,
    path: "expect[1].where.server",
    at: "east/linkerd-multicluster/linkerd-gateway",
    message: /cluster east runs no multicluster gateway: no link targets it/,
  },
  {
    what: "a failover band whose lower end lies above its upper end is refused at atLeast: nothing could pass",
    yaml: MULTI.replace("within: 10s}", "atLeast: 12s, within: 10s}"),
    path: "expect[0].failover.atLeast",
    at: "12s,",
    message: /atLeast 12s is more than within 10s: no failover time can pass/,
  },
  {
    what: "a failover expectation measured from after the end of the run is refused",
    yaml: MULTI.replace("after: 2m", "after: 20m"),
    path: "expect[0].failover.after",
    at: "20m",
    message: /after 20m is not before the end of the run \(duration 10m\)/,
  },
  {
    what: "a failover expectation measured from the very end of the run is refused: nothing is left to measure",
    yaml: MULTI.replace("after: 2m", "after: 10m"),
    path: "expect[0].failover.after",
    at: "10m, within",
    message: /after 10m is not before the end of the run/,
  },
  {
    what: "an empty file says what a scenario needs",
    yaml: "",
    path: "",
    at: "",
    message: /the scenario file is empty/,
  },
];

describe("scenario input errors", () => {
  it.each(cases)("$what", (c) => {
    const errors = errorsOf(c.yaml, c.opts);
    const e = errors.find((x) => x.path === c.path && c.message.test(x.message));
    expect(e, JSON.stringify(errors, null, 1)).toBeDefined();
    const want = c.yaml === "" ? { line: 1, col: 1 } : positionOf(c.yaml, c.at, c.nth);
    expect({ file: e?.file, line: e?.line, col: e?.col }).toEqual({ file: "scenario.yaml", ...want });
    if (c.suggestion !== undefined) expect(e?.suggestion).toBe(c.suggestion);
    if (c.expected !== undefined) expect(e?.expected).toMatch(c.expected);
  });

  it("the multicluster base the link and failover cases edit loads", () => {
    const r = loadScenario(FILE, memoryReader({ [FILE]: MULTI }));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it("never throws, whatever the text: a mangled scenario gives positioned errors or loads", () => {
    fc.assert(
      fc.property(fc.nat(BASE.length), fc.nat(8), fc.string({ maxLength: 4 }), (at, cut, insert) => {
        const yaml = BASE.slice(0, at) + insert + BASE.slice(at + cut);
        const r = loadScenario(FILE, memoryReader({ [FILE]: yaml }));
        if (r.ok) return;
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) {
          expect(e.file).toBe("scenario.yaml");
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.message).not.toBe("");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("an unreadable scenario file is an error, not an exception", () => {
    const r = loadScenario("/s/missing.yaml", memoryReader({}));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/cannot read the scenario: ENOENT/);
  });

  it("errors inside manifests name the manifest file and line", () => {
    const yaml = BASE.replace("    services:", "    manifests: [k8s/*.yaml]\n    services:");
    const manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: default\n";
    const errors = errorsOf(yaml, {}, { "/s/k8s/svc.yaml": manifest });
    expect(errors).toContainEqual(expect.objectContaining({ file: "k8s/svc.yaml", line: 3, path: "metadata.name" }));
  });

  it("reports every independent schema problem at once, not only the first", () => {
    const yaml = BASE.replace("concurrency: 4", "concurrancy: 4").replace("duration: 10s", "duration: 5");
    expect(errorsOf(yaml).map((e) => e.path).sort()).toEqual(["behavior[0].concurrancy", "duration"]);
  });

  it("refuses a scenario over a caller-chosen event limit, and accepts it under a larger one", () => {
    // 100 rps × 10 s = 1000 requests; no calls; 10 events each ⇒ 10 000 events; plus two pods
    // (client and server, no probes) at 20 events each ⇒ 10 040.
    expect(errorsOf(BASE, { maxEvents: 10_039 })[0]?.message).toMatch(/about 10040 events/);
    expect(loadScenario(FILE, memoryReader({ [FILE]: BASE }), { maxEvents: 10_040 }).ok).toBe(true);
  });
});
