// `meshsim policy FILE --from deploy/X --to svc/Y [-n NS] [--cluster C] [--port P] [--at 3m] [--json]`:
// the policy one client's proxy applies to one Service at a simulated instant (src/api/policy.ts),
// printed as YAML in the spirit of `linkerd diagnostics policy`. Exit 0, or 2 on bad input.

import { resolve } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { effectivePolicy } from "../api/policy.js";
import { formatInputError } from "../k8s/input-error.js";
import { loadScenario } from "../scenario/load.js";
import { parseDurationUs } from "../sim/time.js";
import { fileReader, manifestsRoot } from "./files.js";
import { commandLineError, EXIT, inputErrorsJson } from "./run-command.js";

type Print = (line: string) => void;

export interface PolicyCommandOptions {
  from: string;
  to: string;
  namespace?: string;
  cluster?: string;
  port?: string;
  at?: string;
  json?: boolean;
  manifestsRoot?: string;
}

/** `deploy/web`, `deployment/web` or `web` ⇒ web; `svc/api`, `service/api` or `api` ⇒ api. `ns/name` picks the namespace. */
function target(text: string, kinds: readonly string[]): { namespace?: string; name: string } | undefined {
  const m = /^(?:([a-z]+)\/)?(?:([a-z0-9-]+)\/)?([a-z0-9.-]+)$/.exec(text);
  if (m === null) return undefined;
  if (m[1] !== undefined && !kinds.includes(m[1])) {
    // `ns/name` without a kind.
    if (m[2] !== undefined) return undefined;
    return { namespace: m[1], name: m[3] as string };
  }
  return { ...(m[2] === undefined ? {} : { namespace: m[2] }), name: m[3] as string };
}

export function policyCommand(file: string, opts: PolicyCommandOptions, out: Print, err: Print): number {
  const refuse = (message: string): number => {
    const e = commandLineError(message);
    err(formatInputError(e));
    if (opts.json === true) out(inputErrorsJson([e]));
    return EXIT.badInput;
  };
  const from = target(opts.from, ["deploy", "deployment", "deployments", "sts", "statefulset", "ds", "daemonset"]);
  if (from === undefined) return refuse(`--from ${opts.from}: expected deploy/NAME (or NAMESPACE/NAME)`);
  const to = target(opts.to, ["svc", "service", "services"]);
  if (to === undefined) return refuse(`--to ${opts.to}: expected svc/NAME (or NAMESPACE/NAME)`);
  const at = opts.at === undefined ? { ok: true as const, us: 0 } : parseDurationUs(opts.at);
  if (!at.ok) return refuse(`--at ${opts.at}: ${at.error}`);
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) return refuse(`--port ${opts.port}: expected a port, 1..65535`);
  const loaded = loadScenario(resolve(file), fileReader, { displayAs: file, ...manifestsRoot(opts.manifestsRoot) });
  if (!loaded.ok) {
    for (const e of loaded.errors) err(formatInputError(e));
    if (opts.json === true) out(inputErrorsJson(loaded.errors));
    return EXIT.badInput;
  }
  if (at.us > loaded.spec.durationUs) return refuse(`--at ${opts.at} is after the end of the run (${loaded.spec.durationUs / 1e6}s)`);
  const fromNs = from.namespace ?? opts.namespace ?? "default";
  const answer = effectivePolicy(loaded.spec, {
    from: { ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }), namespace: fromNs, deployment: from.name },
    to: { namespace: to.namespace ?? opts.namespace ?? fromNs, name: to.name, ...(port === undefined ? {} : { port }) },
    atUs: at.us,
  });
  if (!answer.ok) return refuse(answer.problem);
  const v = answer.view;
  if (opts.json === true) {
    out(JSON.stringify(v));
    return EXIT.ok;
  }
  const source = v.source === "proxy" ? "the config its proxy holds" : v.source === "controllers" ? "what the controllers would answer its proxy (it has not asked yet)" : "no proxy";
  out(`# ${v.client} (pod ${v.pod}) → ${v.service} at ${v.at}s: ${source}`);
  out(stringify(v.policy, { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}

export function registerPolicy(program: Command, out: Print, err: Print): void {
  program
    .command("policy")
    .description("what a client's proxy applies to a Service at a simulated instant, as linkerd diagnostics policy shows it")
    .argument("<file>", "scenario file")
    .requiredOption("--from <workload>", "the client: deploy/NAME")
    .requiredOption("--to <service>", "the Service: svc/NAME")
    .option("-n, --namespace <ns>", "namespace of both (default: default)")
    .option("--cluster <name>", "the client's cluster, when several run it")
    .option("--port <port>", "the Service port (default: its first)")
    .option("--at <duration>", "the simulated instant (default 0s): the scenario plays until then", "0s")
    .option("--json", "print one JSON object")
    .option("--manifests-root <dir>", "let the scenario's manifests come from anywhere below DIR (default: only below the scenario's own directory)")
    .action((file: string, opts: PolicyCommandOptions) => {
      process.exitCode = policyCommand(file, opts, out, err);
    });
}
