// `meshsim demo mmc`: the kernel running an M/M/c queue next to the Erlang C closed form — the
// quickest way to see that the simulator is deterministic and right.

import { makeDistribution } from "../sim/distributions.js";
import { quantile, runStation } from "../sim/queueing.js";
import { erlangC, mmcMeanSojourn, mmcSojournQuantile } from "../sim/queueing-theory.js";

export interface MmcDemoOptions {
  servers: number;
  lambda: number;
  mu: number;
  customers: number;
  seed: string;
  json?: boolean;
}

/** Runs the demo, prints through `out`, returns the exit code (2 for an unstable queue). */
export function runMmcDemo(o: MmcDemoOptions, out: (line: string) => void): number {
  const rho = o.lambda / (o.servers * o.mu);
  if (rho >= 1) {
    out(`error: ρ = λ/(cμ) = ${rho.toFixed(3)} ≥ 1, so the queue grows without bound; lower --lambda or raise --servers/--mu`);
    return 2;
  }
  const started = process.hrtime.bigint();
  const r = runStation({
    seed: o.seed,
    interarrival: makeDistribution({ dist: "exponential", meanUs: 1e6 / o.lambda }),
    service: makeDistribution({ dist: "exponential", meanUs: 1e6 / o.mu }),
    servers: o.servers,
    customers: o.customers,
    warmupCustomers: Math.floor(o.customers / 100),
    traceDepartures: true,
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const meanS = r.meanSojournUs / 1e6;
  const p99S = quantile(r.sojournsUs, 0.99) / 1e6;
  const theoryMean = mmcMeanSojourn(o.servers, o.lambda, o.mu);
  const theoryP99 = mmcSojournQuantile(o.servers, o.lambda, o.mu, 0.99);
  const summary = {
    model: `M/M/${o.servers}`,
    seed: o.seed,
    digest: r.digest,
    customers: o.customers,
    events: r.events,
    simulatedSeconds: r.endUs / 1e6,
    wallSeconds,
    rho,
    erlangC: erlangC(o.servers, o.lambda, o.mu),
    meanSojournS: { measured: meanS, theory: theoryMean },
    p99SojournS: { measured: p99S, theory: theoryP99 },
    littlesLaw: { meanInSystem: r.meanInSystem, throughputTimesSojourn: r.throughputPerUs * r.meanSojournUs },
  };
  if (o.json === true) {
    out(JSON.stringify(summary));
    return 0;
  }
  const pct = (m: number, t: number) => `${((m / t - 1) * 100).toFixed(2)}%`;
  out(`M/M/${o.servers}  λ=${o.lambda}/s  μ=${o.mu}/s  ρ=${rho.toFixed(3)}  Erlang C=${summary.erlangC.toFixed(5)}`);
  out(`customers ${o.customers.toLocaleString("en-US")}  events ${r.events.toLocaleString("en-US")}  simulated ${(r.endUs / 1e6).toFixed(0)} s in ${wallSeconds.toFixed(2)} s wall`);
  out("");
  out("                 measured    theory   diff");
  out(`mean sojourn  ${meanS.toFixed(4).padStart(10)} s ${theoryMean.toFixed(4).padStart(8)} s  ${pct(meanS, theoryMean)}`);
  out(`p99 sojourn   ${p99S.toFixed(4).padStart(10)} s ${theoryP99.toFixed(4).padStart(8)} s  ${pct(p99S, theoryP99)}`);
  out(`Little's law  L=${r.meanInSystem.toFixed(4)}  λ̂·W=${(r.throughputPerUs * r.meanSojournUs).toFixed(4)}`);
  out("");
  out(`seed ${o.seed}  digest ${r.digest}  (same seed ⇒ same digest: meshsim demo mmc --seed ${o.seed})`);
  return 0;
}
