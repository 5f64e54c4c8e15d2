// `meshsim stat|routes|edges RESULT.json`: a finished run's report (result.json, written by
// `run --out`) asked what `linkerd viz stat deploy`, `viz routes` and `viz edges deploy` would
// have shown over a window: `-t 1m --at 4m` is the minute before 4m; by default the whole run.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { edgesFromSeries, type ResultSeries, routesFromSeries, statFromSeries, type VizQuery } from "../report/result-series.js";
import { formatEdgesTable, formatRoutesTable, formatStatTable } from "../report/tables.js";
import { formatInputError } from "../k8s/input-error.js";
import { parseDurationUs } from "../sim/time.js";
import { commandLineError, EXIT } from "./run-command.js";

type Print = (line: string) => void;

export interface VizCommandOptions {
  namespace?: string;
  from?: string;
  to?: string;
  window?: string;
  at?: string;
  json?: boolean;
}

/** `deploy/web`, `svc/web`, `web` ⇒ web, in the namespace given (or `ns/web`). */
function target(text: string | undefined, namespace: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const parts = text.split("/");
  const name = parts.at(-1) as string;
  const ns = parts.length === 3 ? parts[1] : parts.length === 2 && !["deploy", "deployment", "svc", "service", "sts", "ds"].includes(parts[0] as string) ? parts[0] : namespace;
  return ns === undefined ? name : `${ns}/${name}`;
}

export function vizCommand(kind: "stat" | "routes" | "edges", file: string, opts: VizCommandOptions, out: Print, err: Print): number {
  const refuse = (message: string): number => {
    err(formatInputError(commandLineError(message)));
    return EXIT.badInput;
  };
  let series: ResultSeries | undefined;
  try {
    series = (JSON.parse(readFileSync(file, "utf8")) as { series?: ResultSeries }).series;
  } catch (e) {
    return refuse(`${file}: cannot be read as a meshsim result.json (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  }
  if (series === undefined) return refuse(`${file}: has no series: write it with meshsim run --out DIR (DIR/result.json)`);
  const at = opts.at === undefined ? { ok: true as const, us: series.durationSeconds * 1e6 } : parseDurationUs(opts.at);
  if (!at.ok) return refuse(`--at ${opts.at}: ${at.error}`);
  const span = opts.window === undefined ? { ok: true as const, us: at.us } : parseDurationUs(opts.window);
  if (!span.ok || span.us <= 0) return refuse(`-t ${opts.window}: expected a positive duration such as 1m`);
  const toS = Math.min(at.us / 1e6, series.durationSeconds);
  const fromS = Math.max(0, toS - span.us / 1e6);
  if (!(toS > fromS)) return refuse(`the window [${fromS}s, ${toS}s) is empty`);
  const to = target(opts.to, opts.namespace);
  const from = target(opts.from, opts.namespace);
  const q: VizQuery = { fromS, toS, ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }), ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
  if (kind === "stat" && from !== undefined) return refuse("stat --from: a run keeps inbound series per server, not per client; use meshsim routes RESULT --from deploy/NAME for a client's view");
  const clusters = [...new Set(series.inbound.map((e) => e.workload.split("/")[0] as string))].sort();
  if (opts.json === true) {
    const rows = kind === "stat" ? statFromSeries(series, q) : kind === "routes" ? routesFromSeries(series, q) : edgesFromSeries(series, q);
    out(JSON.stringify({ window: [fromS, toS], rows }));
    return EXIT.ok;
  }
  out(`# window [${fromS}s, ${toS}s)`);
  if (kind === "stat") {
    // One table per cluster, as `linkerd --context=<cluster> viz stat` shows them.
    for (const cluster of clusters) {
      if (clusters.length > 1) out(`$ linkerd --context=${cluster} viz stat deploy${opts.namespace === undefined ? " -A" : ` -n ${opts.namespace}`}`);
      out(formatStatTable(statFromSeries(series, { ...q, cluster }), { allNamespaces: opts.namespace === undefined }).trimEnd());
    }
  } else if (kind === "routes") out(formatRoutesTable(routesFromSeries(series, q)).trimEnd());
  else out(formatEdgesTable(edgesFromSeries(series, q)).trimEnd());
  return EXIT.ok;
}

export function registerViz(program: Command, out: Print, err: Print): void {
  const describe: Record<"stat" | "routes" | "edges", string> = {
    stat: "linkerd viz stat deploy, from a finished run's result.json: inbound golden metrics per workload over a window",
    routes: "linkerd viz routes -o wide, from a finished run's result.json: per route of a client (--from), effective and actual",
    edges: "linkerd viz edges deploy, from a finished run's result.json: who called whom in the window, and whether over mTLS",
  };
  for (const kind of ["stat", "routes", "edges"] as const) {
    program
      .command(kind)
      .description(describe[kind])
      .argument("<result>", "result.json of meshsim run --out DIR")
      .option("-n, --namespace <ns>", "only this namespace (and names without one are in it)")
      .option("--from <workload>", "only requests from this client: deploy/NAME")
      .option("--to <target>", kind === "routes" ? "only routes to this Service: svc/NAME" : "only this server: deploy/NAME")
      .option("-t, --window <duration>", "the window's length (default: the whole run up to --at)")
      .option("--at <duration>", "the window's end (default: the end of the run)")
      .option("--json", "print {window, rows}")
      .action((file: string, opts: VizCommandOptions) => {
        process.exitCode = vizCommand(kind, file, opts, out, err);
      });
  }
}
