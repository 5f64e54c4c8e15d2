// `run` shows what `check` finds, and nothing is ignored silently: the grouped diagnostics and
// the "not simulated" block come before the summary (and in --json), --verbose lists everything,
// --strict fails on errors and warnings but never on notes, and a clean scenario prints neither.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCommand } from "../src/cli/check-command.js";
import { runCommand } from "../src/cli/run-command.js";
import { smallScenario } from "./support/small-scenario.js";

function capture(fn: (out: (s: string) => void, err: (s: string) => void) => number): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = fn((s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const SHAPES = "test/fixtures/real-shapes/unsupported-kinds";
const SCENARIO = `${SHAPES}/scenario.yaml`;
const PROFILE = "ServiceProfile emojivoto/voting-svc.emojivoto.svc.cluster.local";
/** Flagger's canary is simulated; its autoscalerRef is not, and says so. */
const CANARY_WARNING = "warning canary-not-simulated: [prod] Canary emojivoto/web spec.autoscalerRef";
const GROUPED = [
  "meshsim check finds 6 warnings in the scenario (--verbose lists every one):",
  CANARY_WARNING,
  "    manifests/canary.yaml:13:3: the autoscaler is not simulated: replicas stay as the Deployments say",
  `warning retry-non-idempotent ×5: [prod] ${PROFILE} spec.routes[0].isRetryable, spec.routes[1].isRetryable, spec.routes[2].isRetryable, and 2 more`,
];
/** Each kind the fixture holds that meshsim does not simulate, and how its consequence starts. */
const KINDS: Array<[string, string, string]> = [
  ["AuthorizationPolicy", "emojivoto/web-http-authn", "authorization is not simulated: in the cluster, clients it does not allow are refused (HTTP 403"],
  ["HorizontalPodAutoscaler", "emojivoto/web", "autoscaling is not simulated"],
  ["Ingress", "emojivoto/web-ingress", "ingress controllers are not simulated"],
  ["Job", "emojivoto/seed-votes", "batch jobs are not simulated"],
  ["MeshTLSAuthentication", "emojivoto/web-clients", "authentication is not simulated"],
  ["Server", "emojivoto/web-http", "authorization is not simulated: every client reaches these ports here"],
];
const IGNORED = "also read and ignored, no effect on the simulated traffic: ConfigMap ×1, ServiceAccount ×2";
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("meshsim run on manifests with kinds it does not simulate", () => {
  const r = capture((o, e) => runCommand([SCENARIO], {}, o, e));
  const lines = r.out.split("\n");
  const summaryAt = lines.findIndex((l) => l.startsWith("scenario unsupported-kinds  seed 1"));

  it("passes (the simulation serves every vote) and prints the findings before the summary", () => {
    expect(r.code).toBe(0);
    expect(summaryAt).toBeGreaterThan(0);
    expect(r.out).toMatch(/PASS {2}all succeed/);
  });

  it("groups the five warnings of one code on one line, then the first one's place and message", () => {
    expect(lines.slice(0, 4)).toEqual(GROUPED);
    expect(lines[4]).toMatch(/^ {4}manifests\/voting-profile\.yaml:\d+:\d+: route "VoteDoughnut" is isRetryable and its condition can match POST/);
    expect(lines.filter((l) => l.includes("retry-non-idempotent"))).toHaveLength(1);
  });

  it.each(KINDS)("lists %s with its count, its object and what that means for the result", (kind, object, consequence) => {
    const at = lines.findIndex((l) => l.startsWith(`  ${kind} ×1 (${object}): ${consequence}`));
    expect(at).toBeGreaterThan(lines.indexOf("not simulated (what these do in the cluster is not part of this result):"));
    expect(at).toBeLessThan(summaryAt);
  });

  it("says the default-deny Server would refuse these requests with 403", () => {
    expect(r.out).toMatch(/^ {2}Server ×1 \(emojivoto\/web-http\): .*a default-deny Server would make these requests fail with 403/m);
  });

  it("lists the proxy annotation it does not exercise, and counts the inert kinds on one line", () => {
    expect(r.out).toMatch(/^ {2}annotation config\.linkerd\.io\/proxy-cpu-limit ×1 \(Deployment emojivoto\/web\): proxy resources are not simulated/m);
    expect(lines[summaryAt - 2]).toBe(IGNORED);
    expect(lines[summaryAt - 1]).toBe("");
  });

  it("--verbose prints every diagnostic in full", () => {
    const v = capture((o, e) => runCommand([SCENARIO], { verbose: true }, o, e));
    const full = v.out.split("\n").filter((l) => l.includes(": warning retry-non-idempotent: "));
    expect(full).toEqual([0, 1, 2, 3, 4].map((i) => expect.stringMatching(new RegExp(`^manifests/voting-profile\\.yaml:\\d+:\\d+: warning retry-non-idempotent: \\[prod\\] ${escape(PROFILE)} spec\\.routes\\[${i}\\]\\.isRetryable$`))));
    expect(v.out).toMatch(/^meshsim check finds 6 warnings in the scenario:$/m);
    expect(v.out).not.toMatch(/and 2 more/);
  });

  it("--json carries diagnostics[], notSimulated[] and ignoredKinds[], and prints no text besides", () => {
    const j = capture((o, e) => runCommand([SCENARIO], { json: true }, o, e));
    expect(j.out.split("\n")).toHaveLength(1);
    const json = JSON.parse(j.out) as {
      diagnostics: Array<{ severity: string; code: string; cluster: string; field: string }>;
      notSimulated: Array<{ kind?: string; field?: string; count: number; objects: string[]; consequence: string }>;
      ignoredKinds: Array<{ kind: string; count: number }>;
    };
    expect(json.diagnostics.map((d) => [d.severity, d.code, d.cluster, d.field])).toEqual([
      ["warning", "canary-not-simulated", "prod", "spec.autoscalerRef"],
      ...[0, 1, 2, 3, 4].map((i) => ["warning", "retry-non-idempotent", "prod", `spec.routes[${i}].isRetryable`]),
    ]);
    expect(json.notSimulated.map((e) => [e.kind ?? e.field, e.count])).toEqual([...KINDS.map(([kind]) => [kind, 1]), ["annotation config.linkerd.io/proxy-cpu-limit", 1]]);
    expect(json.notSimulated.find((e) => e.kind === "Server")).toMatchObject({ objects: ["Server emojivoto/web-http"], consequence: expect.stringMatching(/403/) });
    expect(json.ignoredKinds.map((k) => [k.kind, k.count])).toEqual([["ConfigMap", 1], ["ServiceAccount", 2]]);
  });

  it("--strict turns the warnings into exit 1, and says why", () => {
    const s = capture((o, e) => runCommand([SCENARIO], { strict: true }, o, e));
    expect(s.code).toBe(1);
    expect(s.err).toContain(`--strict: ${SCENARIO} fails on what meshsim check finds (6 warnings)`);
  });
});

describe("--strict never fails on notes", () => {
  it("a ServiceProfile whose only finding is a note passes under --strict, and run does not print the note", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshsim-findings-"));
    const file = join(dir, "notes.yaml");
    const profile = "{apiVersion: linkerd.io/v1alpha2, kind: ServiceProfile, metadata: {name: api.app.svc.cluster.local, namespace: app}, spec: {retryBudget: {retryRatio: 0.3, minRetriesPerSecond: 10, ttl: 10s}, routes: [{name: get, condition: {method: GET, pathRegex: /.*}, isRetryable: true}]}}";
    writeFileSync(file, smallScenario().replace("      - {name: client, namespace: app}\n", `      - {name: client, namespace: app}\n    objects:\n      - ${profile}\n`));
    expect(capture((o, e) => checkCommand([file], {}, o, e)).out).toMatch(/^info retry-budget-ratio-truncated: /);
    const r = capture((o, e) => runCommand([file], { strict: true }, o, e));
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toMatch(/^scenario small {2}seed 1/);
  });
});

describe("meshsim run on a clean scenario", () => {
  it("mmc-validation prints neither diagnostics nor a not-simulated block: the summary comes first", () => {
    const r = capture((o, e) => runCommand(["scenarios/mmc-validation.yaml"], { strict: true }, o, e));
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toMatch(/^scenario mmc-validation {2}seed 5/);
    expect(r.out).not.toMatch(/meshsim check finds|not simulated|also read and ignored/);
  });

  it("--json of a clean scenario has empty findings", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshsim-findings-"));
    const file = join(dir, "clean.yaml");
    writeFileSync(file, smallScenario());
    const j = JSON.parse(capture((o, e) => runCommand([file], { json: true }, o, e)).out) as Record<string, unknown>;
    expect([j["diagnostics"], j["notSimulated"], j["ignoredKinds"]]).toEqual([[], [], []]);
  });
});

describe("meshsim check groups repeated diagnostics the same way", () => {
  const manifests = `${SHAPES}/manifests`;

  it("one line per code, the totals with a hint, then the not-simulated block", () => {
    const r = capture((o, e) => checkCommand([manifests], {}, o, e));
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("warning canary-not-simulated: Canary emojivoto/web spec.autoscalerRef");
    expect(lines[2]).toBe(`warning retry-non-idempotent ×5: ${PROFILE} spec.routes[0].isRetryable, spec.routes[1].isRetryable, spec.routes[2].isRetryable, and 2 more`);
    expect(lines[3]).toMatch(new RegExp(`^ {4}${escape(manifests)}/voting-profile\\.yaml:\\d+:\\d+: route "VoteDoughnut"`));
    expect(lines.slice(4, 7)).toEqual(["", "6 warnings (--verbose lists every one)", ""]);
    expect(lines[7]).toBe("not simulated (what these do in the cluster is not part of this result):");
    expect(lines.slice(8, 8 + KINDS.length).map((l) => l.slice(0, l.indexOf(" ("))).map((l) => l.trim())).toEqual(KINDS.map(([kind]) => `${kind} ×1`));
    expect(lines[lines.length - 1]).toBe(IGNORED);
  });

  it("--verbose shows all of them", () => {
    const r = capture((o, e) => checkCommand([manifests], { verbose: true }, o, e));
    expect(r.out.split("\n").filter((l) => / warning retry-non-idempotent: /.test(l))).toHaveLength(5);
    expect(r.out).toMatch(/^6 warnings$/m);
  });

  it("--json adds notSimulated[] and ignoredKinds[] beside diagnostics[]", () => {
    const r = capture((o, e) => checkCommand([manifests], { json: true }, o, e));
    const json = JSON.parse(r.out) as { diagnostics: unknown[]; notSimulated: Array<{ kind?: string }>; ignoredKinds: Array<{ kind: string }> };
    expect(json.diagnostics).toHaveLength(6);
    expect(json.notSimulated.map((e) => e.kind).filter((k) => k !== undefined)).toEqual(KINDS.map(([kind]) => kind));
    expect(json.ignoredKinds.map((k) => k.kind)).toEqual(["ConfigMap", "ServiceAccount"]);
  });
});
