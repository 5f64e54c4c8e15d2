// Questions a test asks of a finished run, typed: one metric over a window (the same measurement
// an `expect:` entry makes), the per-bucket timeline, and an expectation's outcome by name.
// Windows are human durations (`"2m30s"`) or microseconds; absent ⇒ [warmup, duration).

import type { Metric, MetricFilter } from "../mesh/spec.js";
import type { TimelinePoint } from "../mesh/metrics.js";
import { matchedNothing, measure, type ExpectationResult } from "../scenario/expect.js";
import type { ScenarioRun } from "../scenario/run.js";
import { parseDurationUs } from "../sim/time.js";

/** A window bound: a human duration such as `"2m30s"`, or whole microseconds. */
export type Instant = string | number;

/**
 * The value of `metric` for the series matching `where` over `window`, in the units `expect:` uses
 * (latencies in ms, rates as fractions); null when there was nothing to measure, a count whose
 * filter matched no request in the window included. A window other than [warmup, duration) is
 * answered from the timeline buckets, widened to whole buckets. `latencyAbove` takes its
 * threshold in `options` (`{threshold: "50ms"}`), as the expectation does.
 * Throws on a malformed or empty window, or a threshold missing for `latencyAbove` or given to
 * another metric: in a test that is a mistake in the test, not input.
 */
export function metric(run: ScenarioRun, name: Metric, where: MetricFilter = {}, window?: readonly [Instant, Instant], options: { threshold?: Instant } = {}): number | null {
  const w: [number, number] = window === undefined ? [run.spec.warmupUs, run.spec.durationUs] : [instantUs(window[0]), instantUs(window[1])];
  if (!(w[1] > w[0])) throw new Error(`metric ${name}: the window [${String(window?.[0])}, ${String(window?.[1])}) is empty`);
  if ((name === "latencyAbove") !== (options.threshold !== undefined)) {
    throw new Error(name === "latencyAbove" ? 'metric latencyAbove needs a threshold: metric(run, "latencyAbove", where, window, {threshold: "50ms"})' : `metric ${name} takes no threshold (only latencyAbove does)`);
  }
  const thresholdUs = options.threshold === undefined ? undefined : instantUs(options.threshold);
  // As an expectation measures it: a count over a filter that matched no request is nothing, not 0.
  return matchedNothing(run.world.metrics, name, where, w) ? null : measure(run.world.metrics, name, where, w, thresholdUs);
}

/** Per-bucket sums over the series matching `where`, from 0 to the end of the run. */
export function timeline(run: ScenarioRun, where: MetricFilter = {}): TimelinePoint[] {
  return run.world.metrics.timeline({ ...where });
}

/** The evaluated expectation called `name`; throws, listing the names there are, when none is. */
export function expectation(run: ScenarioRun, name: string): ExpectationResult {
  const found = run.expectations.find((e) => e.name === name);
  if (found !== undefined) return found;
  const names = run.expectations.map((e) => `  ${e.name}`).join("\n");
  throw new Error(`scenario ${run.spec.name} has no expectation named "${name}"; it has:\n${names === "" ? "  (none)" : names}`);
}

function instantUs(at: Instant): number {
  const r = parseDurationUs(at);
  if (!r.ok) throw new Error(`window bound: ${r.error}`);
  return r.us;
}
