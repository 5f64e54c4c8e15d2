// The fuzz pool's worker thread: judges the cases it is sent, one at a time, and says when it is
// ready (so the watchdog never counts the time it takes to load). `spinMs` busy-waits instead,
// which is how the harness's own test shows the watchdog ends a case that never returns.

import { parentPort, workerData } from "node:worker_threads";
import { judgeCase, type OracleLimits } from "./oracle.js";

export type WorkerRequest = { id: number; yaml: string } | { id: number; spinMs: number };
export type WorkerReply = { ready: true } | { id: number; outcome: ReturnType<typeof judgeCase> };

const port = parentPort;
const data = workerData as { meshsimFuzz?: boolean; limits?: OracleLimits } | null;
if (port !== null && data?.meshsimFuzz === true && data.limits !== undefined) {
  const limits = data.limits;
  port.on("message", (req: WorkerRequest) => {
    if ("spinMs" in req) {
      const until = Date.now() + req.spinMs;
      while (Date.now() < until) {
        // A case that never returns, for the watchdog test.
      }
      port.postMessage({ id: req.id, outcome: { kind: "run", detail: "spun", ms: req.spinMs } } satisfies WorkerReply);
      return;
    }
    port.postMessage({ id: req.id, outcome: judgeCase(req.yaml, limits) } satisfies WorkerReply);
  });
  port.postMessage({ ready: true } satisfies WorkerReply);
}
