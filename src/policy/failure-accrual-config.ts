// Parser for the Service annotations `balancer.linkerd.io/failure-accrual*` (circuit breaking).
// Mirrors `parse_accrual_config` in policy-controller/k8s/index/src/outbound/index.rs
// @ linkerd2 version-2.16. Difference: every invalid value is reported, not only the first one.

import type { FailureAccrualConfig } from "./config.js";
import { annotationField, type Diagnostic, type Parsed } from "./diagnostics.js";
import { formatDurationUs, parseLinkerdDuration, parseRustUnsigned, U32_MAX } from "./duration.js";
import { readAnnotation, type AnnotationMap } from "./annotation-merge.js";

export const ACCRUAL_MODE = "balancer.linkerd.io/failure-accrual";
export const ACCRUAL_MAX_FAILURES = "balancer.linkerd.io/failure-accrual-consecutive-max-failures";
export const ACCRUAL_MIN_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-min-penalty";
export const ACCRUAL_MAX_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-max-penalty";
export const ACCRUAL_JITTER = "balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio";

/** Values used when only `failure-accrual: consecutive` is set. */
export const DEFAULT_FAILURE_ACCRUAL: FailureAccrualConfig = {
  maxFailures: 7,
  minPenaltyUs: 1_000_000,
  maxPenaltyUs: 60_000_000,
  jitterRatio: 0.5,
};

const CONSEQUENCE =
  "Linkerd logs an error and turns failure accrual off for this Service: no endpoint is ever ejected";

// Rust's `str::parse::<f32>()` grammar: sign, then inf/infinity/nan or a decimal with optional exponent.
const RUST_FLOAT = /^[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)$/i;

/** Rust's f32 parse, rounded to f32; undefined when the text is not a float. */
export function parseRustF32(text: string): number | undefined {
  if (!RUST_FLOAT.test(text)) return undefined;
  const body = text.replace(/^[+-]/, "").toLowerCase();
  const sign = text.startsWith("-") ? -1 : 1;
  if (body === "nan") return Number.NaN;
  if (body === "inf" || body === "infinity") return sign * Number.POSITIVE_INFINITY;
  return Math.fround(Number(text));
}

/**
 * Parse a Service's failure-accrual annotations. Absent mode ⇒ none; `consecutive` (exact,
 * case-sensitive) ⇒ config with defaults for missing fields; anything invalid ⇒ none + error.
 */
export function parseFailureAccrualConfig(
  annotations: AnnotationMap,
  object: string,
): Parsed<FailureAccrualConfig | undefined> {
  const diagnostics: Diagnostic[] = [];
  const error = (key: string, code: string, why: string): Parsed<FailureAccrualConfig | undefined> => {
    diagnostics.push({ severity: "error", code, object, field: annotationField(key), message: `${why}. ${CONSEQUENCE}.` });
    return { value: undefined, diagnostics };
  };
  const mode = readAnnotation(annotations, ACCRUAL_MODE, object, diagnostics);
  if (mode === undefined) {
    noteOrphanedSettings(annotations, object, diagnostics);
    return { value: undefined, diagnostics };
  }
  if (mode !== "consecutive") {
    const why = `\`${ACCRUAL_MODE}: ${mode}\` is not a supported mode (only "consecutive", exactly)`;
    return error(ACCRUAL_MODE, "failure-accrual-mode-invalid", why);
  }
  const fields = readFields(annotations, object, diagnostics);
  if (typeof fields === "string") return { value: undefined, diagnostics };
  const { minPenaltyUs, maxPenaltyUs, jitterRatio } = fields;
  if (minPenaltyUs > maxPenaltyUs) {
    return error(ACCRUAL_MIN_PENALTY, "failure-accrual-min-exceeds-max",
      `min-penalty ${formatDurationUs(minPenaltyUs)} exceeds max-penalty ${formatDurationUs(maxPenaltyUs)}`);
  }
  if (maxPenaltyUs === 0) return error(ACCRUAL_MAX_PENALTY, "failure-accrual-max-penalty-zero", "max-penalty cannot be zero");
  // NaN fails the `>= 0` check upstream, so it is reported as negative there too.
  const badJitter = "failure-accrual-jitter-invalid";
  if (!(jitterRatio >= 0)) return error(ACCRUAL_JITTER, badJitter, `jitter-ratio ${jitterRatio} cannot be negative`);
  if (jitterRatio > 100) return error(ACCRUAL_JITTER, badJitter, `jitter-ratio ${jitterRatio} cannot be greater than 100`);
  if (fields.maxFailures === 0) noteNeverTrips(object, diagnostics);
  return { value: fields, diagnostics };
}

/** Read the four numeric settings with defaults; "invalid" when any failed (diagnostics pushed). */
function readFields(annotations: AnnotationMap, object: string, diagnostics: Diagnostic[]): FailureAccrualConfig | "invalid" {
  const config: FailureAccrualConfig = { ...DEFAULT_FAILURE_ACCRUAL };
  let ok = true;
  const bad = (key: string, code: string, text: string, why: string): void => {
    ok = false;
    diagnostics.push({
      severity: "error", code, object, field: annotationField(key),
      message: `\`${key}: ${text}\` is invalid: ${why}. ${CONSEQUENCE}.`,
    });
  };
  const maxFailures = readAnnotation(annotations, ACCRUAL_MAX_FAILURES, object, diagnostics);
  if (maxFailures !== undefined) {
    const parsed = parseRustUnsigned(maxFailures, U32_MAX);
    if (parsed.ok) config.maxFailures = Number(parsed.value);
    else bad(ACCRUAL_MAX_FAILURES, "failure-accrual-max-failures-invalid", maxFailures, parsed.error);
  }
  for (const [key, slot] of [[ACCRUAL_MAX_PENALTY, "maxPenaltyUs"], [ACCRUAL_MIN_PENALTY, "minPenaltyUs"]] as const) {
    const text = readAnnotation(annotations, key, object, diagnostics);
    if (text === undefined) continue;
    const parsed = parseLinkerdDuration(text);
    if (parsed.ok) config[slot] = parsed.us;
    else bad(key, "failure-accrual-penalty-invalid", text, parsed.error);
  }
  const jitter = readAnnotation(annotations, ACCRUAL_JITTER, object, diagnostics);
  if (jitter !== undefined) {
    const parsed = parseRustF32(jitter);
    if (parsed !== undefined) config.jitterRatio = parsed;
    else bad(ACCRUAL_JITTER, "failure-accrual-jitter-invalid", jitter, "it is not a number");
  }
  return ok ? config : "invalid";
}

function noteOrphanedSettings(annotations: AnnotationMap, object: string, diagnostics: Diagnostic[]): void {
  for (const key of [ACCRUAL_MAX_FAILURES, ACCRUAL_MIN_PENALTY, ACCRUAL_MAX_PENALTY, ACCRUAL_JITTER]) {
    if (annotations === undefined || annotations === null || !Object.hasOwn(annotations, key)) continue;
    diagnostics.push({
      severity: "warning",
      code: "failure-accrual-without-mode",
      object,
      field: annotationField(key),
      message:
        `${key} is set but ${ACCRUAL_MODE} is absent: Linkerd ignores it and this Service has no ` +
        `circuit breaking (add \`${ACCRUAL_MODE}: consecutive\`).`,
    });
  }
}

// The breaker trips when the failure count, just incremented, equals max-failures; 0 is never reached.
function noteNeverTrips(object: string, diagnostics: Diagnostic[]): void {
  diagnostics.push({
    severity: "warning",
    code: "failure-accrual-never-trips",
    object,
    field: annotationField(ACCRUAL_MAX_FAILURES),
    message:
      "max-failures 0 is accepted, but the breaker trips when the consecutive-failure count reaches it " +
      "after a failure, so it never trips.",
  });
}
