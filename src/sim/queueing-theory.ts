// Closed forms for the queues the kernel is validated against (see reference/validation.md).
// λ arrival rate, μ service rate per server, c servers, ρ = λ/(cμ); any consistent time unit.

/** M/M/1 mean sojourn W = 1/(μ − λ). */
export function mm1MeanSojourn(lambda: number, mu: number): number {
  return 1 / (mu - lambda);
}

/** M/M/1 sojourn p-quantile: FIFO sojourn is Exp(μ − λ), so W_p = −ln(1 − p)/(μ − λ). */
export function mm1SojournQuantile(lambda: number, mu: number, p: number): number {
  return -Math.log(1 - p) / (mu - lambda);
}

/** M/M/1 mean number in system L = ρ/(1 − ρ). */
export function mm1MeanInSystem(lambda: number, mu: number): number {
  const rho = lambda / mu;
  return rho / (1 - rho);
}

/** Erlang C: probability an arrival waits in M/M/c. */
export function erlangC(c: number, lambda: number, mu: number): number {
  const a = lambda / mu;
  const rho = a / c;
  let term = 1; // a^k / k!
  let sum = 0;
  for (let k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  const top = term / (1 - rho); // term is now a^c / c!
  return top / (sum + top);
}

/** M/M/c mean sojourn W = C/(cμ − λ) + 1/μ. */
export function mmcMeanSojourn(c: number, lambda: number, mu: number): number {
  return erlangC(c, lambda, mu) / (c * mu - lambda) + 1 / mu;
}

/** M/M/c mean wait in queue Wq = C/(cμ − λ) (every arrival, those served at once with 0). */
export function mmcMeanWait(c: number, lambda: number, mu: number): number {
  return erlangC(c, lambda, mu) / (c * mu - lambda);
}

/** M/M/c wait p-quantile: 0 while 1 − p ≥ C, else ln(C/(1 − p))/(cμ − λ), inverting P(Wq > t) below. */
export function mmcWaitQuantile(c: number, lambda: number, mu: number, p: number): number {
  const C = erlangC(c, lambda, mu);
  return 1 - p >= C ? 0 : Math.log(C / (1 - p)) / (c * mu - lambda);
}

/** P(Wq > t) = C·e^{−(cμ−λ)t} for M/M/c. */
export function mmcWaitExceeds(c: number, lambda: number, mu: number, t: number): number {
  return erlangC(c, lambda, mu) * Math.exp(-(c * mu - lambda) * t);
}

/**
 * The p-quantile of M/M/c sojourn time W = Wq + S, where Wq is 0 with probability 1 − C and
 * Exp(cμ − λ) otherwise, and S ~ Exp(μ) independently. Solved by bisection on the CDF.
 */
export function mmcSojournQuantile(c: number, lambda: number, mu: number, p: number): number {
  const C = erlangC(c, lambda, mu);
  const d = c * mu - lambda;
  // P(W > t) = (1−C)e^{−μt} + C·[μe^{−dt} − d·e^{−μt}]/(μ − d)   (μ ≠ d), from convolving the two laws.
  const tail = (t: number): number =>
    Math.abs(mu - d) < 1e-12
      ? (1 - C) * Math.exp(-mu * t) + C * (1 + mu * t) * Math.exp(-mu * t)
      : (1 - C) * Math.exp(-mu * t) + (C * (mu * Math.exp(-d * t) - d * Math.exp(-mu * t))) / (mu - d);
  let lo = 0;
  let hi = 1 / Math.min(mu, d);
  while (tail(hi) > 1 - p) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > 1 - p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** M/D/1 mean wait (Pollaczek–Khinchine): Wq = ρ/(2μ(1 − ρ)). */
export function md1MeanWait(lambda: number, mu: number): number {
  const rho = lambda / mu;
  return rho / (2 * mu * (1 - rho));
}

/** M/G/1 mean wait: Wq = λE[S²]/(2(1 − ρ)). */
export function mg1MeanWait(lambda: number, meanService: number, secondMomentService: number): number {
  const rho = lambda * meanService;
  return (lambda * secondMomentService) / (2 * (1 - rho));
}

// ---- Sampling error of time averages: the M/M/c queue-length chain ----------------------------
// A statistic averaged over one run (a mean wait, a utilization) is not an average of independent
// samples: a long queue delays everyone behind it. Its variance comes from the birth–death chain of
// the number in system, N, through the Poisson equation.

/** The M/M/c birth–death chain, truncated where the stationary probabilities become negligible. */
export interface MmcChain {
  c: number;
  lambda: number;
  mu: number;
  /** Stationary probabilities of 0, 1, … in the system, up to the truncation. */
  pi: number[];
}

/**
 * The chain up to `nMax` in system, or sooner where π_k falls below 1e-24 of the mass so far: the
 * tail beyond is far below double precision, and the Poisson equation's steps divide by π_k, so
 * states with π_k near the square of the rounding error (1e-32) would blow rounding up.
 */
export function mmcChain(c: number, lambda: number, mu: number, nMax = 100_000): MmcChain {
  if (!(lambda < c * mu)) throw new Error(`M/M/${c} with λ = ${lambda} ≥ cμ = ${c * mu} has no stationary law`);
  const pi = [1];
  let mass = 1;
  for (let k = 1; k <= nMax; k += 1) {
    const q = ((pi[k - 1] as number) * lambda) / (Math.min(k, c) * mu);
    if (k > c && q < 1e-24 * mass) break;
    pi.push(q);
    mass += q;
  }
  const total = pi.reduce((a, b) => a + b, 0);
  return { c, lambda, mu, pi: pi.map((q) => q / total) };
}

/** E[g(N)] under the stationary law. */
export function expectOver(chain: MmcChain, g: (k: number) => number): number {
  return chain.pi.reduce((a, q, k) => a + q * g(k), 0);
}

/**
 * Asymptotic variance per unit time of ∫ f(N) dt + Σ over arrivals of a(N just before), for the
 * M/M/c birth–death chain: with h solving the Poisson equation, Σ_k π_k Σ_j q_kj (jump reward +
 * h_j − h_k)². For a birth–death chain h_{k+1} − h_k = −Σ_{i≤k} π_i r_i / (λ π_k), r the centred
 * reward rate. Over a run of length T the functional's variance is this × T.
 */
export function asymptoticVariance(chain: MmcChain, f: (k: number) => number, a: (k: number) => number): number {
  const { c, lambda, mu, pi } = chain;
  const drift = expectOver(chain, (k) => f(k) + lambda * a(k));
  let cumulative = 0;
  let v = 0;
  let previousStep = 0;
  for (let k = 0; k < pi.length - 1; k += 1) {
    const q = pi[k] as number;
    if (k > 0) v += q * Math.min(k, c) * mu * previousStep ** 2;
    cumulative += q * (f(k) + lambda * a(k) - drift);
    const step = -cumulative / (lambda * q);
    v += q * lambda * (a(k) + step) ** 2;
    previousStep = step;
  }
  return v;
}

/**
 * σ of the mean wait in queue measured over a run of length T (in the chain's time unit). By
 * Little's law on the queue, the waits of the ≈ λT customers sum to ∫ Q dt with Q = max(0, N − c),
 * so W̄q − Wq ≈ Z/(λT) with Z = ∫ Q dt − Wq·(arrivals), whose variance is
 * asymptoticVariance(Q, −Wq)·T: σ = √(v/(λ²T)).
 */
export function mmcMeanWaitSigma(chain: MmcChain, horizon: number): number {
  const { c, lambda, mu } = chain;
  const wq = mmcMeanWait(c, lambda, mu);
  return Math.sqrt(asymptoticVariance(chain, (k) => Math.max(0, k - c), () => -wq) / (lambda ** 2 * horizon));
}

/** σ of the utilization (busy slots / c, time-averaged) measured over a run of length T: √(v/T). */
export function mmcUtilizationSigma(chain: MmcChain, horizon: number): number {
  return Math.sqrt(asymptoticVariance(chain, (k) => Math.min(k, chain.c) / chain.c, () => 0) / horizon);
}
