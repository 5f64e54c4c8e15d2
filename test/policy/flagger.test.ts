// Flagger's canary job (src/policy/flagger.ts) against the sequences Flagger's own scheduler tests
// walk through (pkg/controller/scheduler_deployment_test.go: AnalysisPhases, BlueGreenAnalysisPhases,
// Rollback; scheduler_svc_test.go: stepWeights [1, 2, 10, 80] and the overflowing [1, 2, 10, 200]),
// and the defaults of pkg/apis/flagger/v1beta1/canary.go.

import { describe, expect, it } from "vitest";
import {
  advanceCanary,
  type CanaryConfig,
  type CanaryObservation,
  type CanaryStatus,
  FLAGGER_DEFAULTS,
  INITIAL_STATUS,
  maxWeight,
  nextStepWeight,
  parseCanary,
} from "../../src/policy/flagger.js";

const canary = (analysis: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): CanaryConfig => {
  const parsed = parseCanary({
    apiVersion: "flagger.app/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "default" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 }, ...(analysis === undefined ? {} : { analysis }), ...extra },
  });
  if (parsed.value === undefined) throw new Error(parsed.diagnostics.map((d) => d.message).join("; "));
  return parsed.value;
};

/** A cluster where everything is ready and the routing object holds what the job last wrote. */
class FakeCluster {
  spec = "v1";
  routes: { primary: number; canary: number } | undefined;
  primaryReady = true;
  canaryReady = true;
  value: (metric: string) => number | undefined = (m) => (m === "request-success-rate" ? 100 : 10);
  nowUs = 0;
  status: CanaryStatus = INITIAL_STATUS;

  constructor(private readonly config: CanaryConfig) {}

  tick(): ReturnType<typeof advanceCanary> {
    const obs: CanaryObservation = {
      nowUs: this.nowUs,
      targetSpec: this.spec,
      primaryExists: true,
      primaryReady: this.primaryReady,
      canaryReady: this.canaryReady,
      ...(this.routes === undefined ? {} : { routes: this.routes }),
      measure: (m) => this.value(m.name),
    };
    const step = advanceCanary(this.config, this.status, obs);
    for (const a of step.actions) {
      if (a.kind === "ensure-routes" && this.routes === undefined) this.routes = { primary: 100, canary: 0 };
      if (a.kind === "set-routes") this.routes = { primary: a.primary, canary: a.canary };
    }
    this.status = step.status;
    this.nowUs += this.config.intervalUs;
    return step;
  }

  /** Initialise, then roll out a new revision: the job's state once it has detected it. */
  progressing(): void {
    this.tick();
    expect(this.status.phase).toBe("Initialized");
    this.spec = "v2";
    this.tick();
    expect(this.status.phase).toBe("Progressing");
  }
}

describe("parseCanary: Flagger's defaults", () => {
  it("interval 60 s when absent, never below 10 s; threshold 1; metric interval 1m; progress deadline 600 s", () => {
    const c = canary({ metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] });
    expect(c.intervalUs).toBe(60_000_000);
    expect(c.threshold).toBe(1);
    expect(c.metrics).toEqual([{ name: "request-success-rate", intervalUs: 60_000_000, min: 99 }]);
    expect(c.progressDeadlineUs).toBe(600_000_000);
    expect(canary({ interval: "5s" }).intervalUs).toBe(10_000_000);
    expect(canary({ interval: "bogus" }).intervalUs).toBe(60_000_000);
    expect(canary({ interval: "30s", threshold: 5 }).threshold).toBe(5);
  });

  it("picks the strategy as DeploymentStrategy does: iterations with match is A/B, iterations alone blue/green", () => {
    expect(canary({ stepWeight: 10 }).strategy).toBe("canary");
    expect(canary({ iterations: 3 }).strategy).toBe("blue-green");
    expect(canary({ iterations: 3, match: [{ headers: { x: { exact: "y" } } }] }).strategy).toBe("ab-testing");
    expect(canary(undefined).skipAnalysis).toBe(true);
  });

  it("names the Services after spec.service.name, else the target", () => {
    expect(canary({}).service).toBe("podinfo");
    expect(canary({}, { service: { port: 80, name: "web" } }).service).toBe("web");
  });

  it("says out loud what it will not simulate, and refuses a Canary it cannot drive", () => {
    const parsed = parseCanary({
      metadata: { name: "c", namespace: "ns" },
      spec: {
        targetRef: { kind: "Deployment", name: "web" },
        service: { port: 80 },
        analysis: { webhooks: [{ name: "load" }], metrics: [{ name: "error-rate", templateRef: { name: "t" } }], match: [{}], iterations: 2 },
      },
    });
    expect(parsed.value?.strategy).toBe("ab-testing");
    expect(parsed.diagnostics.map((d) => [d.severity, d.field])).toEqual([
      ["warning", "spec.analysis.match"],
      ["warning", "spec.analysis.metrics[0].templateRef"],
      ["warning", "spec.analysis.webhooks"],
    ]);
    expect(parseCanary({ metadata: { name: "c" }, spec: { targetRef: { kind: "DaemonSet", name: "x" }, service: { port: 80 } } }).value).toBeUndefined();
    expect(parseCanary({ metadata: { name: "c" }, spec: { targetRef: { kind: "Deployment", name: "x" } } }).diagnostics[0]?.field).toBe("spec.service.port");
  });
});

describe("weights: maxWeight and nextStepWeight", () => {
  it("steps through stepWeights [1, 2, 10, 80] and promotes at 80", () => {
    const c = canary({ stepWeights: [1, 2, 10, 80] });
    expect(maxWeight(c)).toBe(80);
    const seen: number[] = [];
    for (let w = 0; w < maxWeight(c); ) seen.push((w += nextStepWeight(c, w)));
    expect(seen).toEqual([1, 2, 10, 80]);
  });

  it("caps an overflowing last step at the total weight: [1, 2, 10, 200] ends at 100", () => {
    const c = canary({ stepWeights: [1, 2, 10, FLAGGER_DEFAULTS.totalWeight + 100] });
    expect(maxWeight(c)).toBe(100);
    const seen: number[] = [];
    for (let w = 0; w < maxWeight(c); ) seen.push((w += nextStepWeight(c, w)));
    expect(seen).toEqual([1, 2, 10, 100]);
  });

  it("stepWeight wins over stepWeights; maxWeight defaults to 100", () => {
    const c = canary({ stepWeight: 20, stepWeights: [5, 50] });
    expect(nextStepWeight(c, 40)).toBe(20);
    expect(maxWeight(canary({ stepWeight: 20 }))).toBe(100);
  });
});

describe("advanceCanary: the job's phases", () => {
  it("waits for the primary while initialising, then initialises once it is ready", () => {
    const f = new FakeCluster(canary({ stepWeight: 10 }));
    f.primaryReady = false;
    expect(f.tick().status.phase).toBe("");
    f.primaryReady = true;
    const step = f.tick();
    expect(step.status.phase).toBe("Initialized");
    expect(step.actions.map((a) => a.kind)).toEqual(["ensure-services", "route-apex-to-primary", "scale-target-to-zero", "ensure-routes"]);
  });

  it("AnalysisPhases: stepWeight 100 and stepWeightPromotion 50 (weights 0, 100, 100, 50, 0, 0)", () => {
    const f = new FakeCluster(canary({ interval: "1m", stepWeight: 100, stepWeightPromotion: 50 }));
    f.progressing();
    expect(f.routes?.canary).toBe(0);
    const phases: Array<[string, number | undefined]> = [];
    for (let i = 0; i < 5; i++) phases.push([f.tick().status.phase, f.routes?.canary]);
    expect(phases).toEqual([
      ["Progressing", 100],
      ["Promoting", 100],
      ["Promoting", 50],
      ["Finalising", 0],
      ["Succeeded", 0],
    ]);
  });

  it("BlueGreenAnalysisPhases: one iteration, then all traffic to the canary, then promotion", () => {
    const f = new FakeCluster(canary({ interval: "1m", iterations: 1 }));
    f.progressing();
    const phases: Array<[string, number | undefined]> = [];
    for (let i = 0; i < 5; i++) phases.push([f.tick().status.phase, f.routes?.canary]);
    expect(phases).toEqual([
      ["Progressing", 0],
      ["Progressing", 100],
      ["Promoting", 100],
      ["Finalising", 0],
      ["Succeeded", 0],
    ]);
  });

  it("promotes ⌈maxWeight/stepWeight⌉ + 3 intervals after it detects the revision", () => {
    // Detection (scale up), then one step per interval to maxWeight (the first without analysis),
    // one more analysis that promotes, one that routes all to the primary, one that scales down.
    const c = canary({ interval: "30s", maxWeight: 50, stepWeight: 10, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] });
    const f = new FakeCluster(c);
    f.progressing();
    const detectedUs = f.nowUs - c.intervalUs;
    while (f.status.phase !== "Succeeded") f.tick();
    expect(f.nowUs - c.intervalUs - detectedUs).toBe((Math.ceil(50 / 10) + 3) * c.intervalUs);
  });

  it("Rollback: a failing check counts, and the run after the threshold-th failure rolls back", () => {
    const f = new FakeCluster(canary({ interval: "30s", threshold: 2, stepWeight: 10, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] }));
    f.progressing();
    f.tick(); // weight 10, no analysis yet
    f.value = () => 95;
    const first = f.tick();
    expect(first.analysis).toEqual([{ metric: "request-success-rate", value: 95, min: 99, ok: false }]);
    expect(first.status).toMatchObject({ phase: "Progressing", failedChecks: 1 });
    expect(first.events).toEqual(["Halt podinfo.default advancement success rate 95.00% < 99%"]);
    expect(f.routes?.canary).toBe(10);
    expect(f.tick().status.failedChecks).toBe(2);
    const back = f.tick();
    expect(back.status.phase).toBe("Failed");
    expect(back.analysis).toBeUndefined();
    expect(back.actions.map((a) => a.kind)).toEqual(["ensure-services", "route-apex-to-primary", "ensure-routes", "set-routes", "scale-target-to-zero"]);
    expect(f.routes).toEqual({ primary: 100, canary: 0 });
    // Failed stays failed until the next revision.
    expect(f.tick().status.phase).toBe("Failed");
    f.spec = "v3";
    expect(f.tick().status.phase).toBe("Progressing");
  });

  it("no traffic to the canary is 'no values found': a failed check like any other", () => {
    const f = new FakeCluster(canary({ interval: "30s", threshold: 1, stepWeight: 10, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] }));
    f.progressing();
    f.tick();
    f.value = () => undefined;
    const step = f.tick();
    expect(step.analysis?.[0]).toMatchObject({ value: null, ok: false });
    expect(step.events[0]).toMatch(/^Halt advancement no values found for linkerd metric request-success-rate/);
    expect(f.tick().status.phase).toBe("Failed");
  });

  it("request-duration is whole milliseconds, compared with max as Flagger compares durations", () => {
    const f = new FakeCluster(canary({ interval: "30s", stepWeight: 10, metrics: [{ name: "request-duration", thresholdRange: { max: 500 } }] }));
    f.progressing();
    f.tick();
    f.value = () => 500.9;
    expect(f.tick().analysis).toEqual([{ metric: "request-duration", value: 500, max: 500, ok: true }]);
  });

  it("a new revision mid-analysis routes everything back to the primary and starts over", () => {
    const f = new FakeCluster(canary({ interval: "30s", stepWeight: 10 }));
    f.progressing();
    f.tick();
    f.tick();
    expect(f.routes?.canary).toBe(20);
    f.spec = "v3";
    const step = f.tick();
    expect(step.status).toMatchObject({ phase: "Progressing", canaryWeight: 0, failedChecks: 0, lastAppliedSpec: "v3" });
    expect(f.routes).toEqual({ primary: 100, canary: 0 });
    expect(step.events).toEqual(["New revision detected! Restarting analysis for podinfo.default"]);
  });

  it("a canary that never gets ready rolls back at the progress deadline", () => {
    const f = new FakeCluster(canary({ interval: "30s", stepWeight: 10 }, { progressDeadlineSeconds: 60 }));
    f.progressing();
    f.canaryReady = false;
    expect(f.tick().status.phase).toBe("Progressing"); // 30 s waiting
    const step = f.tick(); // 60 s: deadline
    expect(step.status.phase).toBe("Failed");
    expect(step.events[0]).toMatch(/progress deadline exceeded/);
  });
});
