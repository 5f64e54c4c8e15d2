// scenarios/README.md, generated from the zod schema so the documented format cannot drift from
// the one enforced: every section, key, type, default and description comes from schema.ts; only
// the prose about value formats is written here. A test fails when the committed README differs
// from `renderFormatDoc()`; regenerate it with:
//   npx tsx -e 'import("./src/scenario/format-doc.ts").then(m => process.stdout.write(m.renderFormatDoc()))' > scenarios/README.md

import { z } from "zod";
import { ScenarioSchema, schemaDef, unwrapSchema } from "./schema.js";

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

const INTRO = `# Scenario format (v1)

_Generated from \`src/scenario/schema.ts\` by \`src/scenario/format-doc.ts\`; do not edit by hand._

A scenario is one YAML file: identity, topology (clusters with their real Kubernetes manifests),
mesh settings, network, behaviour (what the apps do), traffic, faults, expectations and report.
Kubernetes and Linkerd configuration enters only as real Kubernetes objects; everything below is
the simulator's own small schema. Unknown keys are errors with a "did you mean"; every error names
file:line:col and the field path (\`behavior[0].latency.p99\`). \`meshsim explain FILE\` prints the
scenario with every default filled in.
`;

const VALUES = `## Value formats

| kind | written as | notes |
|---|---|---|
| duration | \`150us\`, \`300ms\`, \`1.5s\`, \`1m30s\`, \`2h\` | integer or decimal + unit (\`us\`, \`ms\`, \`s\`, \`m\`, \`h\`), compound parts allowed; a bare number is refused (no unit) except \`0\` |
| rate | \`1500/s\`, \`90/m\`, \`2/h\`, \`1500\` | a plain number is requests per second |
| distribution | \`{dist: constant, value: 150us}\` | also \`{dist: uniform, min, max}\`, \`{dist: exponential, mean}\`, \`{dist: normal, mean, stddev}\` (truncated at 0), \`{dist: lognormal, median, p99}\` or \`{dist: lognormal, mu, sigma}\` (ln-µs), \`{dist: erlang, k, mean}\` (k from 1 to 1000), \`{dist: empirical, percentiles: {0: 1ms, 50: 4ms, 100: 50ms}}\`; a bare duration means a constant |
| selector | \`{cluster, namespace, deployment}\` | which pods; an absent field matches everything |
| URL | \`http://auth.payments.svc.cluster.local:80/verify\` | plain http (the proxies add mTLS); port defaults to 80 |
| [cluster, cluster] | \`[us-east-1, us-west-2]\` | two different cluster names, unordered |
| headers | \`{x-canary: "true", x-user: alice}\` | header name → value; names are case-insensitive and sent lower-case, a number or boolean value is sent as text |
| gRPC status | \`UNAVAILABLE\`, \`14\`, \`none\` | a status code by its name as gRPC spells it (\`OK\`, \`CANCELLED\`, \`UNKNOWN\`, … \`UNAUTHENTICATED\`) or number 0..16; \`none\`: the answer carries no grpc-status |

**Params.** \`params: {rate: 1500/s}\` declares values that \`\${rate}\` uses in any scalar value of
the file; a scalar that is exactly one reference takes the param's type (a number stays a number),
a reference inside longer text is spliced in as text, and \`$\${\` writes a literal \`\${\`.
Inside flow collections quote the reference (\`{n: "\${replicas}"}\`): YAML reads its braces.
\`--set rate=3000/s\` (and each \`--vary\` value of a sweep) overrides a declared param and keeps its
type: a param declared as text takes the text as written (\`limit: "3"\` with \`--set limit=5\` is
\`"5"\`, still a valid annotation value), one declared as a number must be given a number, and a
boolean \`true\` or \`false\`; an unknown name is an error.

**Schedules.** \`rate\` may be a list of points \`{at, rate}\` (a step) or \`{at, rampTo, over}\` (a
linear ramp from the rate in effect), in time order; before the first point the rate is 0, and a
ramp must end by the next point.

**Faults** are \`{at, until?, <kind>: {...}}\` with exactly one kind. **Expectations** are
\`{name, metric, where?, window?, <bound>}\` with one bound of \`equals\`, \`atMost\`, \`atLeast\`,
\`between: [low, high]\`; or \`{name, reached: kind/reason}\` (bound default \`atLeast: 1\`); or
\`{name, invariant}\`; or \`{name, failover: {trafficSplit, cluster, after, within | never}}\`, which
measures the seconds from \`after\` until the failover operator first takes weight off the primary.
A metric expectation whose filter matches no request in its window, or a failover expectation on a
TrafficSplit the operator does not manage, has nothing to measure (\`n/a\`) and fails, since it
would otherwise hold for a misspelt filter; \`allowEmpty: true\` says that is expected.

**What metrics measure.** Requests count in the window where they *finish*; windows are
\`[from, to)\`. \`successRate\`/\`effectiveSuccessRate\` are per logical request at the client
proxy (after retries), \`actualSuccessRate\` per attempt; a failure is a 5xx or a proxy error,
unless a ServiceProfile route's \`responseClasses\` say otherwise. Latencies are in
**milliseconds**, rates in requests per second, ratios as fractions (\`retryRatio\` = retries per
request, \`amplification\` = attempts the servers saw per client request — give \`where.server\` to
count them at that server). \`where.service\` is the Service name as \`viz stat svc/<name>\` shows it
(\`auth\`, not \`auth.payments\`). A \`where\` naming only \`server\` measures that workload's inbound
side, as \`linkerd viz stat deploy/<name>\` does. \`utilization\` is busy slot-time over slot-time of
the servers \`where.server\` names (all, if absent). \`latencyAbove\` is the fraction of the requests
\`where\` selects whose latency exceeds its \`threshold\` (\`{metric: latencyAbove, threshold: 50ms,
where: {...}, between: [0.1, 0.2]}\`), read from the HDR latency histogram (3 significant digits).
\`queueDelayMean\` and \`queueDelayP99\` are the waits in the app containers' queues of the servers
\`where.server\` names (all, if absent): from a request reaching the container, after the inbound
proxy, to the start of its service, 0 when a concurrency slot was free, counted where service
starts. Invariants: \`requests-end-once\` (every request
is answered exactly once) is checked online in every run; naming it makes it an expectation.
`;

/** The whole README text. */
export function renderFormatDoc(): string {
  const shape = objectShape(ScenarioSchema) ?? {};
  const fields = Object.entries(shape);
  const topRows = fields.map(([key, field]) => fieldRows(key, field)[0] as Row);
  const sections = [INTRO, VALUES, "## Sections\n", `### Top level\n\n${table(topRows)}\n`];
  for (const [key, field] of fields) {
    const rows = fieldRows(key, field).slice(1);
    if (rows.length === 0) continue;
    sections.push(`### \`${key}\`\n\n${descriptionOf(field)}\n\n${table(rows)}\n`);
  }
  return sections.join("\n");
}

function table(rows: readonly Row[]): string {
  return ["| key | type | default | description |", "|---|---|---|---|", ...rows.map(formatRow)].join("\n");
}

function formatRow(r: Row): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`;
}

/** The row for `field` at `key`, then rows for the keys of any mappings inside it. */
function fieldRows(key: string, field: z.ZodType): Row[] {
  const row: Row = { key, type: typeName(field), default: defaultOf(field), description: descriptionOf(field) };
  const rows = [row];
  if (titleOf(field) !== undefined) return rows;
  for (const inner of unwrapSchema(field)) {
    const def = schemaDef(inner);
    const element = def.type === "array" && def.element !== undefined ? unwrapSchema(def.element) : [inner];
    const suffix = def.type === "array" ? "[]" : "";
    for (const e of element) {
      if (titleOf(e) !== undefined) continue;
      const shape = objectShape(e);
      if (shape === undefined) continue;
      for (const [k, f] of Object.entries(shape)) rows.push(...fieldRows(`${key}${suffix}.${k}`, f));
    }
  }
  return rows;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = schemaDef(schema);
  return def.type === "object" ? def.shape : undefined;
}

const WRAPPED: ReadonlySet<string> = new Set(["optional", "prefault", "default", "nullable"]);

/** Wrappers from the outside in, each a place `.describe()` or `.meta()` may have written to. */
function layers(schema: z.ZodType): z.ZodType[] {
  const out = [schema];
  let def = schemaDef(schema);
  while ((WRAPPED.has(def.type) && def.innerType) || (def.type === "pipe" && def.in)) {
    const next = (def.type === "pipe" ? def.in : def.innerType) as z.ZodType;
    out.push(next);
    def = schemaDef(next);
  }
  return out;
}

function metaOf(schema: z.ZodType, key: "title" | "description"): string | undefined {
  for (const layer of layers(schema)) {
    const v = z.globalRegistry.get(layer)?.[key];
    if (typeof v === "string") return v;
  }
  return undefined;
}

const titleOf = (s: z.ZodType) => metaOf(s, "title");
const descriptionOf = (s: z.ZodType) => metaOf(s, "description") ?? "";

function defaultOf(schema: z.ZodType): string {
  for (const layer of layers(schema)) {
    const def = schemaDef(layer);
    if (def.type === "prefault" || def.type === "default") return flow(def.defaultValue);
    if (def.type === "optional") return "—";
  }
  return "required";
}

/** A value the way it would be written in a flow-style YAML scenario. */
function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
  if (typeof v === "object" && v !== null) return `{${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(", ")}}`;
  if (v === "") return '""';
  return String(v);
}

function typeName(schema: z.ZodType): string {
  const title = titleOf(schema);
  if (title !== undefined) return title;
  const def = schemaDef(schema);
  const inner = WRAPPED.has(def.type) ? def.innerType : def.type === "pipe" ? def.in : undefined;
  if (inner !== undefined) return typeName(inner);
  switch (def.type) {
    case "union":
      return [...new Set((def.options ?? []).map(typeName))].join(" or ");
    case "number":
      return (def as { format?: string }).format === "safeint" ? "integer" : "number";
    case "enum":
      return Object.values(def.entries ?? {}).map((v) => `\`${v}\``).join(" | ");
    case "array":
      return `list of ${def.element === undefined ? "any" : typeName(def.element)}`;
    case "tuple":
      return `[${(def.items ?? []).map(typeName).join(", ")}]`;
    case "record":
      return def.valueType === undefined || schemaDef(def.valueType).type === "unknown" ? "mapping" : `mapping of ${typeName(def.valueType)}`;
    case "object":
      return "mapping";
    case "unknown":
      return "any";
    default:
      return def.type;
  }
}
