// `npm run bench [-- --json] [-- --quick]`: kernel speed on compiled JS, median of several runs.
//   kernel.mm1   — M/M/1, 1e6 customers at ρ = 0.9 (the same model as ../shared/peers/simpy_mm1.py)
//   kernel.hold  — the classic "hold" model: 10 000 pending events, each popped event reschedules
//                  itself at now + Exp(mean); measures the queue at a realistic size.
// SimPy runs the identical M/M/1 when python3 can import simpy (Debian: python3-simpy3), median of three.
//   mesh         — bench/scenarios/mesh-3tier.yaml: a meshed three-tier app at 1 000 user requests/s
//                  for 1 simulated hour, and for 15 minutes, each in its own process, three runs of
//                  each (the run with the median wall time; the highest peak RSS); rssGrowth is the
//                  ratio of their peak RSS (4× the duration should not mean more memory).
//   platform     — bench/scenarios/platform.yaml: 31 services in three tiers of fan-out, both policy
//                  stacks, a TrafficSplit and a multicluster link, 20 000 user requests/s;
//                  platform.realTimeFactor is simulated seconds per wall second (median of three).
//   sweep        — the same sweep (4 points per core, at least 8) on 1 worker and on every core,
//                  alternately, three times each (medians):
//                  sweep.parallelSpeedup, and sweep.parallelEfficiency = speedup / workers.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeDistribution } from "../src/sim/distributions.js";
import { runStation } from "../src/sim/queueing.js";
import { forkRng } from "../src/sim/rng.js";
import { Simulation } from "../src/sim/simulation.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const RUNS = quick ? 1 : 5;
const MM1_CUSTOMERS = quick ? 200_000 : 1_000_000;
const HOLD_PENDING = 10_000;
const HOLD_EVENTS = quick ? 1_000_000 : 5_000_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function log(msg: string): void {
  if (!json) console.log(msg);
  else process.stderr.write(msg + "\n");
}

function timeSeconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function benchMm1(): { eventsPerSec: number; customersPerSec: number; meanSojournS: number } {
  const secs: number[] = [];
  let events = 0;
  let mean = 0;
  for (let i = 0; i < RUNS; i++) {
    let r: ReturnType<typeof runStation> | undefined;
    secs.push(timeSeconds(() => {
      r = runStation({
        seed: 42 + i,
        interarrival: makeDistribution({ dist: "exponential", meanUs: 1e6 / 0.9 }),
        service: makeDistribution({ dist: "exponential", meanUs: 1e6 }),
        servers: 1,
        customers: MM1_CUSTOMERS,
      });
    }));
    events = r!.events;
    mean = r!.meanSojournUs / 1e6;
  }
  const s = median(secs);
  return { eventsPerSec: events / s, customersPerSec: MM1_CUSTOMERS / s, meanSojournS: mean };
}

function benchHold(): { eventsPerSec: number } {
  const secs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sim = new Simulation({ seed: 7 + i });
    const rng = forkRng(7 + i, "hold");
    const meanUs = 1_000_000;
    const hold = (): void => {
      sim.schedule(Math.round(-meanUs * Math.log(1 - rng.next())), hold, undefined);
    };
    for (let k = 0; k < HOLD_PENDING; k++) sim.schedule(Math.round(-meanUs * Math.log(1 - rng.next())), hold, undefined);
    secs.push(timeSeconds(() => {
      sim.run({ untilUs: Number.MAX_SAFE_INTEGER, maxEvents: HOLD_EVENTS });
    }));
  }
  return { eventsPerSec: HOLD_EVENTS / median(secs) };
}

function findSimpy(): string | undefined {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(py, ["-c", "import simpy"], { stdio: "ignore" });
      return py;
    } catch {
      // try the next interpreter
    }
  }
  return undefined;
}

function benchSimpy(): { customersPerSec: number } | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [resolve(here, "../../../shared/peers/simpy_mm1.py"), resolve(here, "../../shared/peers/simpy_mm1.py")].find(existsSync);
  const py = findSimpy();
  if (script === undefined || py === undefined) return undefined;
  // The median of three runs, as meshsim's own figure is a median: one run of either varies by a
  // quarter on a shared machine.
  const rates: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const out = execFileSync(py, [script, String(MM1_CUSTOMERS), "0.9", "1.0", String(42 + i)], { encoding: "utf8" });
    const m = /customers_per_s=([\d,]+)/.exec(out);
    if (m === null) return undefined;
    rates.push(Number((m[1] as string).replace(/,/g, "")));
  }
  return { customersPerSec: median(rates) };
}

interface MeshRun {
  requests: number;
  userRequests: number;
  events: number;
  wallSeconds: number;
  simulatedSeconds: number;
  peakRssMB: number;
}

/** One mesh run in a child process (its own peak RSS). */
function meshRun(duration: string, file = "mesh-3tier.yaml"): MeshRun {
  const here = dirname(fileURLToPath(import.meta.url));
  const scenario = resolve(here, "../../bench/scenarios", file);
  const out = execFileSync(process.execPath, [resolve(here, "mesh-run.js"), scenario, duration], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").pop() as string) as MeshRun;
}

/** The run with the median wall time of three (one with --quick), each in its own process, reporting the highest peak RSS of them. */
function medianMeshRun(duration: string, file?: string): MeshRun {
  const runs = Array.from({ length: quick ? 1 : 3 }, () => meshRun(duration, file));
  const byWall = [...runs].sort((a, b) => a.wallSeconds - b.wallSeconds);
  const mid = byWall[Math.floor(byWall.length / 2)] as MeshRun;
  return { ...mid, peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)) };
}

function benchMesh(): Record<string, number> {
  const base = quick ? "2m" : "15m";
  const full = quick ? "8m" : "1h";
  const one = medianMeshRun(base);
  log(`mesh (${base}): ${(one.requests / one.wallSeconds / 1e3).toFixed(1)} k requests/s, peak RSS ${one.peakRssMB} MB`);
  const four = medianMeshRun(full);
  log(`mesh (${full}): ${(four.requests / four.wallSeconds / 1e3).toFixed(1)} k requests/s (${(four.userRequests / four.wallSeconds / 1e3).toFixed(1)} k user requests/s), ${(four.simulatedSeconds / four.wallSeconds).toFixed(1)}x real time, peak RSS ${four.peakRssMB} MB`);
  return {
    "mesh.requestsPerSec": Math.round(four.requests / four.wallSeconds),
    "mesh.userRequestsPerSec": Math.round(four.userRequests / four.wallSeconds),
    "mesh.eventsPerSec": Math.round(four.events / four.wallSeconds),
    "mesh.realTimeFactor": Number((four.simulatedSeconds / four.wallSeconds).toFixed(1)),
    "mesh.peakRssMB": four.peakRssMB,
    "mesh.rssGrowth": Number((four.peakRssMB / one.peakRssMB).toFixed(2)),
  };
}

function benchPlatform(): Record<string, number> {
  const run = medianMeshRun(quick ? "5s" : "20s", "platform.yaml");
  const factor = run.simulatedSeconds / run.wallSeconds;
  log(`platform: ${(run.requests / run.wallSeconds / 1e3).toFixed(1)} k requests/s (${(run.userRequests / run.wallSeconds / 1e3).toFixed(1)} k user requests/s), ${factor.toFixed(2)}x real time, peak RSS ${run.peakRssMB} MB`);
  return {
    "platform.requestsPerSec": Math.round(run.requests / run.wallSeconds),
    "platform.userRequestsPerSec": Math.round(run.userRequests / run.wallSeconds),
    "platform.realTimeFactor": Number(factor.toFixed(2)),
    "platform.peakRssMB": run.peakRssMB,
  };
}

/** The same sweep on one worker and on every core; the ratio of wall times. */
function benchSweepSpeedup(): Record<string, number> {
  const here = dirname(fileURLToPath(import.meta.url));
  const cli = resolve(here, "../src/cli/main.js");
  const scenario = resolve(here, "../../bench/scenarios/sweep-bench.yaml");
  const cores = availableParallelism();
  // At least four points per worker, so the measure is of the pool, not of one straggler.
  const points = `200/s..800/s:${Math.max(quick ? 4 : 8, 4 * cores)}`;
  const time = (workers: number): number =>
    timeSeconds(() => {
      execFileSync(process.execPath, [cli, "sweep", scenario, "--vary", `rate=${points}`, "--workers", String(workers), "--json"], { encoding: "utf8", maxBuffer: 64 << 20 });
    });
  // Alternating, median of three each: the two figures see the same machine weather.
  const ones: number[] = [];
  const alls: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    ones.push(time(1));
    alls.push(time(cores));
  }
  const one = median(ones);
  const all = median(alls);
  log(`sweep: ${one.toFixed(2)} s on 1 worker, ${all.toFixed(2)} s on ${cores}: speedup ${(one / all).toFixed(2)}`);
  return { "sweep.parallelSpeedup": Number((one / all).toFixed(2)), "sweep.parallelEfficiency": Number((one / all / cores).toFixed(2)), "sweep.workers": cores };
}

const mm1 = benchMm1();
log(`kernel.mm1: ${(mm1.eventsPerSec / 1e6).toFixed(2)} M events/s, ${(mm1.customersPerSec / 1e6).toFixed(2)} M customers/s (mean sojourn ${mm1.meanSojournS.toFixed(3)} s; theory 10.000)`);
const hold = benchHold();
log(`kernel.hold10k: ${(hold.eventsPerSec / 1e6).toFixed(2)} M events/s`);
const simpy = benchSimpy();
const result: Record<string, number> = {
  "kernel.mm1.eventsPerSec": Math.round(mm1.eventsPerSec),
  "kernel.mm1.customersPerSec": Math.round(mm1.customersPerSec),
  "kernel.hold10k.eventsPerSec": Math.round(hold.eventsPerSec),
};
if (simpy !== undefined) {
  result["simpy.mm1.customersPerSec"] = simpy.customersPerSec;
  result["kernel.mm1.vsSimpy"] = Number((mm1.customersPerSec / simpy.customersPerSec).toFixed(1));
  log(`simpy.mm1: ${(simpy.customersPerSec / 1e3).toFixed(0)} k customers/s; meshsim is ${result["kernel.mm1.vsSimpy"]}x`);
} else {
  log("simpy: not available (install Debian's python3-simpy3 to compare)");
}
result["kernel.peakRssMB"] = Math.round(process.resourceUsage().maxRSS / 1024);
log(`kernel.peakRssMB: ${result["kernel.peakRssMB"]}`);
result["cores"] = availableParallelism();
if (!args.includes("--kernel-only")) Object.assign(result, benchMesh(), benchPlatform(), benchSweepSpeedup());
if (json) console.log(JSON.stringify(result));
