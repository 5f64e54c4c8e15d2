// A progress bar on stderr for runs that last longer than a second, and only on a terminal.

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
