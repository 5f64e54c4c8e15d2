// `meshsim tap SCENARIO --to deploy/web [-n NS] [--from deploy/X] [--max N] [--seed S]`: the
// requests a workload served, in the shape `linkerd viz tap` prints them at the server's inbound
// side (req, rsp and end lines, with the `tls=true` or `tls=no_tls_from_remote` field the guide
// teaches users to look for). A run keeps no per-request record, so tap plays the scenario again
// (same seed, same digest) and listens; pods stand for IP addresses.

import { resolve } from "node:path";
import type { Command } from "commander";
import { formatInputError } from "../k8s/input-error.js";
import type { ServedRequest } from "../mesh/world-api.js";
import { canaryNames, parseCanary } from "../policy/flagger.js";
import { loadScenario } from "../scenario/load.js";
import { runWorldSpec } from "../scenario/run.js";
import { fileReader, manifestsRoot } from "./files.js";
import { commandLineError, EXIT } from "./run-command.js";

type Print = (line: string) => void;

export interface TapCommandOptions {
  to: string;
  from?: string;
  namespace?: string;
  max?: string;
  seed?: string;
  manifestsRoot?: string;
}

const nameOf = (text: string): string => text.split("/").at(-1) as string;

/** The three lines tap prints for one request. */
export function tapLines(r: ServedRequest, id: number): string[] {
  const head = `id=0:${id} proxy=in  src=${r.src} dst=${r.dst} tls=${r.tls}`;
  const latencyUs = r.endUs - r.startUs;
  const grpc = r.grpcStatus === undefined ? "" : ` grpc-status=${r.grpcStatus}`;
  return [
    `req ${head} :method=${r.request.method} :authority=${r.request.authority} :path=${r.request.path}`,
    `rsp ${head} :status=${r.status} latency=${latencyUs}µs`,
    `end ${head}${grpc} duration=0µs response-length=0B`,
  ];
}

export function tapCommand(file: string, opts: TapCommandOptions, out: Print, err: Print): number {
  const refuse = (message: string): number => {
    err(formatInputError(commandLineError(message)));
    return EXIT.badInput;
  };
  const max = opts.max === undefined ? 100 : Number(opts.max);
  if (!Number.isSafeInteger(max) || max <= 0) return refuse(`--max ${opts.max}: expected a positive whole number`);
  const loaded = loadScenario(resolve(file), fileReader, { displayAs: file, ...(opts.seed === undefined ? {} : { seed: opts.seed }), ...manifestsRoot(opts.manifestsRoot) });
  if (!loaded.ok) {
    for (const e of loaded.errors) err(formatInputError(e));
    return EXIT.badInput;
  }
  const to = nameOf(opts.to);
  const from = opts.from === undefined ? undefined : nameOf(opts.from);
  const ns = opts.namespace;
  // Workloads the scenario declares, and the `<target>-primary` each Flagger Canary creates.
  const names = loaded.spec.clusters.flatMap((c) =>
    c.objects.flatMap((o) => {
      if (o.kind === "Canary") {
        const canary = parseCanary(o.raw).value;
        return canary === undefined ? [] : [{ name: canaryNames(canary).primaryDeployment, namespace: canary.namespace }];
      }
      return [{ name: o.metadata.name, namespace: o.metadata.namespace }];
    }),
  );
  const workloads = names.filter((o) => o.name === to && (ns === undefined || o.namespace === ns));
  if (workloads.length === 0) return refuse(`--to ${opts.to}: the scenario has no workload ${ns === undefined ? to : `${ns}/${to}`}`);
  let shown = 0;
  runWorldSpec(loaded.spec, {
    requests: {
      served: (r) => {
        if (shown >= max) return;
        const [, dstNs, dstDeploy] = r.dstWorkload.split("/");
        if (dstDeploy !== to || (ns !== undefined && dstNs !== ns)) return;
        // A pod is `<deployment>-<n>`: the client's deployment is the name without the ordinal.
        if (from !== undefined && (r.src.split("/")[2] ?? "").replace(/-\d+$/, "") !== from) return;
        shown += 1;
        for (const line of tapLines(r, shown)) out(line);
      },
    },
  });
  if (shown === 0) out(`no requests reached ${ns === undefined ? to : `${ns}/${to}`}${from === undefined ? "" : ` from ${from}`} in this run`);
  return EXIT.ok;
}

export function registerTap(program: Command, out: Print, err: Print): void {
  program
    .command("tap")
    .description("the requests a workload served, as linkerd viz tap prints them (the scenario is played again, same seed)")
    .argument("<file>", "scenario file")
    .requiredOption("--to <workload>", "the server: deploy/NAME")
    .option("--from <workload>", "only requests from this client: deploy/NAME")
    .option("-n, --namespace <ns>", "the server's namespace")
    .option("--max <n>", "stop after this many requests (default 100)")
    .option("--seed <seed>", "override the scenario's seed")
    .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
    .action((file: string, opts: TapCommandOptions) => {
      process.exitCode = tapCommand(file, opts, out, err);
    });
}
