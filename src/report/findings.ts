// The findings block `meshsim run` prints before its summary: what `meshsim check` finds in the
// scenario's objects, grouped by code, then what is read but not simulated. A run that passes on a
// misread manifest is the worst answer meshsim can give, so this comes first, where it is seen.

import { countDiagnostics, formatDiagnostics, groupingHidesSome } from "../k8s/diagnostic-groups.js";
import { formatNotSimulated } from "../k8s/not-simulated.js";
import type { ScenarioFindings } from "../scenario/findings.js";

export interface FindingsFormatOptions {
  /** Every diagnostic and every object in full, instead of one line per code. Default false. */
  verbose?: boolean;
}

/** The block's lines, ending with a blank line; no lines at all when there is nothing to say. */
export function formatFindings(f: ScenarioFindings, opts: FindingsFormatOptions = {}): string[] {
  const verbose = opts.verbose === true;
  const out: string[] = [];
  if (f.diagnostics.length > 0) {
    const hint = !verbose && groupingHidesSome(f.diagnostics) ? " (--verbose lists every one)" : "";
    out.push(`meshsim check finds ${countDiagnostics(f.diagnostics)} in the scenario${hint}:`, ...formatDiagnostics(f.diagnostics, { verbose }), "");
  }
  const notSimulated = formatNotSimulated(f.notSimulated, { verbose });
  if (notSimulated.length > 0) out.push(...notSimulated, "");
  return out;
}
