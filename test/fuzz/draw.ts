// What fast-check draws for one fuzz case: a corpus scenario, one to three structural mutations
// (generic ones on any node, section and Kubernetes edits, new objects, faults of every kind with
// overlapping windows, configuration changes) and rarely an edit of the YAML text.

import fc from "fast-check";
import type { Doc } from "./corpus.js";
import { kubeObject, objectEdit } from "./draw-kube.js";
import { idx, pick, sectionEdit, selector } from "./draw-sections.js";
import type { FuzzCase, Mutation, TextMutation } from "./mutations.js";
import { ANNOTATION_KEYS, ANNOTATION_VALUES, anyValue, DURATIONS, instant, NUMBERS, nameRef, numberish, STRINGS } from "./values.js";

const FAULT_KINDS = [
  "killPods", "scale", "degrade", "readinessFail", "latency", "partition", "controlPlaneDown", "clusterLoss", "restartPods", "issuerExpire",
  "issuerRotate", "anchorBundle", "anchorIssuer", "anchorDrop", "anchorReplace",
] as const;

/** Mostly values a fault could sensibly take (so the run goes ahead and the fault acts), sometimes extremes. */
const faultNumber = (...plausible: number[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...plausible) }, { weight: 1, arbitrary: fc.constantFrom(...NUMBERS) });

function faultBody(kind: (typeof FAULT_KINDS)[number]): fc.Arbitrary<unknown> {
  const cluster = fc.oneof({ weight: 4, arbitrary: nameRef("cluster") }, { weight: 1, arbitrary: fc.constantFrom(...STRINGS) });
  const anchor = fc.oneof(nameRef("anchor"), fc.constantFrom("root", "new-root", ""));
  const pair = fc.oneof({ weight: 4, arbitrary: fc.tuple(nameRef("cluster"), nameRef("cluster")) }, { weight: 1, arbitrary: fc.constantFrom<unknown>([], ["a"], ["a", "b", "c"], "x") });
  switch (kind) {
    case "killPods":
      return fc.record({ select: selector, count: faultNumber(1, 2, 5) }, { requiredKeys: ["select"] });
    case "scale":
      return fc.record({ select: selector, replicas: faultNumber(0, 1, 3, 20) });
    case "degrade":
      return fc.record(
        { select: selector, errorRate: faultNumber(0, 0.1, 0.5, 1), latencyFactor: faultNumber(1, 2, 10, 1000), capacityFactor: faultNumber(0.1, 0.5, 1, 2) },
        { requiredKeys: ["select"] },
      );
    case "readinessFail":
    case "restartPods":
      return fc.record({ select: selector });
    case "latency":
      return fc.record({ between: pair, add: fc.oneof(fc.constantFrom("10ms", "100ms", "1s"), fc.constantFrom(...DURATIONS)) });
    case "partition":
      return fc.record({ between: pair });
    case "controlPlaneDown":
    case "clusterLoss":
    case "issuerExpire":
      return fc.record({ cluster });
    case "issuerRotate":
      return fc.record({ cluster, anchor }, { requiredKeys: ["cluster"] });
    default:
      return fc.record({ cluster, anchor });
  }
}

const ORDERED_INSTANTS = ["0s", "50ms", "100ms", "200ms", "250ms", "300ms", "400ms", "500ms", "1s"];

/** `[at, until]`: mostly a window inside a short run (so windows of several faults overlap), sometimes permanent, sometimes anything. */
const faultWindow: fc.Arbitrary<[unknown, unknown]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat(ORDERED_INSTANTS.length - 1), fc.nat(ORDERED_INSTANTS.length - 1)).map(([a, b]): [unknown, unknown] => [ORDERED_INSTANTS[Math.min(a, b)], ORDERED_INSTANTS[Math.max(a, b)]]) },
  { weight: 2, arbitrary: instant.map((at): [unknown, unknown] => [at, undefined]) },
  { weight: 1, arbitrary: fc.tuple(instant, instant) },
);

/** A fault of any kind, its window drawn from instants inside a short run (so windows overlap), sometimes extreme. */
export const fault: fc.Arbitrary<Doc> = fc
  .tuple(fc.constantFrom(...FAULT_KINDS), faultWindow)
  .chain(([kind, [at, until]]) => faultBody(kind).map((body): Doc => ({ at, ...(until === undefined ? {} : { until }), [kind]: body })));

const KINDS = ["Service", "Deployment", "TrafficSplit", "ServiceProfile", "HTTPRoute", "Namespace", "Pod", "ConfigMap", "", "deployment"];
const changeTarget = {
  kind: fc.constantFrom(...KINDS),
  name: fc.oneof(nameRef("deployment"), nameRef("service"), fc.constantFrom(...STRINGS)),
  namespace: fc.oneof(nameRef("namespace"), fc.constantFrom(...STRINGS)),
};
const workloadTarget = { deployment: fc.oneof(nameRef("deployment"), fc.constantFrom(...STRINGS)), namespace: nameRef("namespace") };

/** A configuration change of any kind (`kubectl apply`, `annotate`, `label`, `patch`, `delete`, `rollout restart`, `set image`). */
export const change: fc.Arbitrary<Doc> = fc.record({
  at: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ORDERED_INSTANTS) }, { weight: 1, arbitrary: instant }),
  cluster: fc.option(nameRef("cluster"), { nil: undefined }),
  body: fc.oneof(
    fc.record({ apply: fc.array(kubeObject, { minLength: 1, maxLength: 2 }) }),
    fc.record({
      annotate: fc.record({ ...changeTarget, set: fc.dictionary(fc.constantFrom(...ANNOTATION_KEYS), fc.constantFrom<unknown>(...ANNOTATION_VALUES, 3, null), { maxKeys: 2 }), remove: fc.constantFrom<unknown>([], ["retry.linkerd.io/http"], [""]) }, { requiredKeys: ["kind", "name"] }),
    }),
    fc.record({ label: fc.record({ ...changeTarget, set: fc.constantFrom<unknown>({ app: "other" }, { "failover.linkerd.io/controlled-by": "linkerd-failover" }, { "app-": null }, {}), remove: fc.constantFrom<unknown>([], ["app"]) }, { requiredKeys: ["kind", "name"] }) }),
    fc.record({
      patch: fc.record({
        ...changeTarget,
        merge: fc.constantFrom<unknown>(
          { spec: { backends: [{ service: "web", weight: 0 }] } },
          { spec: { backends: null } },
          { spec: { replicas: 0 } },
          { spec: { replicas: 65536 } },
          { spec: { replicas: -1 } },
          { spec: { ports: [{ port: 81 }] } },
          { spec: { selector: null } },
          { metadata: { name: "renamed" } },
          { metadata: { annotations: { "retry.linkerd.io/http": "5xx" } } },
          { spec: { template: { spec: { containers: [] } } } },
          {},
        ),
      }, { requiredKeys: ["kind", "name", "merge"] }),
    }),
    fc.record({ delete: fc.record(changeTarget, { requiredKeys: ["kind", "name"] }) }),
    fc.record({ rolloutRestart: fc.record(workloadTarget, { requiredKeys: ["deployment"] }) }),
    fc.record({ setImage: fc.record({ ...workloadTarget, image: fc.constantFrom("app:2", "", "a".repeat(300)), container: fc.constantFrom("web", "", "none") }, { requiredKeys: ["deployment", "image"] }) }),
  ),
}).map(({ at, cluster, body }): Doc => ({ at, ...(cluster === undefined ? {} : { cluster }), ...body }));

const KEYS = ["bogus", "durations", "rte", "replica", "Name", "__proto__", "constructor", "toString", "prototype", "", "x-y", "0", "spec", "at", "until", "select"];

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("replace" as const), at: pick, value: anyValue }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("replaceNumber" as const), at: pick, value: numberish }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), at: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("addKey" as const), at: pick, key: fc.constantFrom(...KEYS), value: anyValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("duplicate" as const), at: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("retype" as const), at: pick }) },
  { weight: 4, arbitrary: sectionEdit },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("object" as const), at: pick }).chain((m) => objectEdit.map((e) => ({ ...m, ...e }))) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("addObject" as const), cluster: idx, object: kubeObject }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("fault" as const), fault }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("change" as const), change }) },
);

const TEXT_PREFIXES = ["&a ", "*a ", "!!str ", "!!binary ", "!custom ", "<<: *x\n", "? ", "- ", "\t", "{", "[", "%YAML 1.1\n", "---\n", "'", "\"", "|\n", "# ", "key: [unclosed\n", "x: &a [1,1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"];

export const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  line: pick,
  edit: fc.constantFrom("duplicate", "drop", "prefix", "truncate"),
  text: fc.constantFrom(...TEXT_PREFIXES),
});

/** A case: a corpus scenario, one to three structural mutations, and rarely a text edit. */
export const fuzzCase = (corpusSize: number): fc.Arbitrary<FuzzCase> =>
  fc.record({
    base: fc.nat(corpusSize - 1),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
    text: fc.oneof({ weight: 9, arbitrary: fc.constant<TextMutation[]>([]) }, { weight: 1, arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }) }),
  });
