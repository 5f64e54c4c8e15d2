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
