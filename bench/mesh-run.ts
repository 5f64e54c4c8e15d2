// One mesh benchmark run in its own process, so its peak RSS is its own:
//   node dist/bench/mesh-run.js <scenario> <duration>
// prints one JSON line: requests (logical requests at every hop), user requests (after the warmup), wall and
// simulated seconds, events and peak RSS.

import { resolve } from "node:path";
import { fileReader } from "../src/cli/files.js";
import { formatInputError } from "../src/k8s/input-error.js";
import { loadScenario } from "../src/scenario/load.js";
import { runWorldSpec } from "../src/scenario/run.js";

const [file, duration] = process.argv.slice(2);
if (file === undefined || duration === undefined) {
  process.stderr.write("usage: mesh-run <scenario> <duration>\n");
  process.exit(2);
}
const loaded = loadScenario(resolve(file), fileReader, { set: { duration } });
if (!loaded.ok) {
  process.stderr.write(loaded.errors.map(formatInputError).join("\n") + "\n");
  process.exit(2);
}
const started = process.hrtime.bigint();
const run = runWorldSpec(loaded.spec);
const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
// User requests: what every traffic generator issued after the warmup.
const window: [number, number] = [loaded.spec.warmupUs, loaded.spec.durationUs];
const users = loaded.spec.traffic.reduce((n, t) => n + run.world.metrics.query({ traffic: t.name }, window).requests, 0);
process.stdout.write(
  JSON.stringify({
    requests: run.world.requests,
    userRequests: users,
    events: run.world.events,
    wallSeconds,
    simulatedSeconds: run.world.simulatedUs / 1e6,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    digest: run.world.digest,
  }) + "\n",
);
