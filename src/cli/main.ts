// The `meshsim` command line. The only layer that touches the process, files and the console.

import { Command, InvalidArgumentError } from "commander";
import { runMmcDemo } from "./demo.js";

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

const program = new Command()
  .name("meshsim")
  .description("Deterministic discrete-event simulator of a Linkerd service mesh")
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command("demo")
  .description("validation demos of the simulation kernel against closed forms")
  .command("mmc")
  .description("an M/M/c queue on the kernel, compared with Erlang C")
  .option("--servers <c>", "servers", positiveInteger, 2)
  .option("--lambda <rate>", "arrivals per second", positiveNumber, 1.6)
  .option("--mu <rate>", "services per second per server", positiveNumber, 1)
  .option("--customers <n>", "customers to simulate", positiveInteger, 400_000)
  .option("--seed <seed>", "seed (the same seed gives the same digest)", "1")
  .option("--json", "print one JSON object")
  .action((opts: { servers: number; lambda: number; mu: number; customers: number; seed: string; json?: boolean }) => {
    process.exitCode = runMmcDemo(opts, (line) => process.stdout.write(line + "\n"));
  });

program.parse(process.argv);
