// Progress bars on stderr, only on a terminal: one run's simulated time (for runs that last longer
// than a second), and a count of finished runs for commands that run many (sweep, verify).

import cliProgress from "cli-progress";

export function progressReporter(label: string): { onProgress: (fraction: number) => void; stop: () => void } | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  const started = process.hrtime.bigint();
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress(fraction: number) {
      if (bar === undefined) {
        if (Number(process.hrtime.bigint() - started) < 1e9) return;
        bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% simulated | {duration}s`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(100, 0);
      }
      bar.update(Math.round(fraction * 100));
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Told of each finished run, and when all are done. */
export interface RunsProgress {
  tick: () => void;
  stop: () => void;
}

/** `LABEL [bar] 12/40 runs` on stderr, only on a terminal. */
export function runsProgressBar(label: string, total: number): RunsProgress | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} runs | {duration}s`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
