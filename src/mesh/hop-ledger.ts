// Online invariant: at every server pod, requests that arrived = requests answered + requests it
// still holds. A checker apart from the model: the data plane counts what it handed to the pod
// and each answer that came back (a second answer to one request is a violation at once); at the
// end of the run the pod's inbound queue and its container say, from their own queues, what they
// still hold. A request that vanished — dropped by a dying pod without an answer, or lost between
// the inbound proxy and the container — breaks the balance.

import type { Respond } from "./http.js";
import type { Pod } from "./pod.js";

interface Counts {
  arrived: number;
  answered: number;
}

export class HopLedger {
  private readonly byPod = new Map<Pod, Counts>();

  constructor(private readonly violated: (message: string) => void) {}

  /** A request reached `pod`; returns `reply` wrapped to count its one answer. */
  arrived(pod: Pod, reply: Respond): Respond {
    let c = this.byPod.get(pod);
    if (c === undefined) {
      c = { arrived: 0, answered: 0 };
      this.byPod.set(pod, c);
    }
    c.arrived += 1;
    const counts = c;
    let answered = false;
    return (res) => {
      if (answered) this.violated(`${pod.label} answered one request twice (${res.status} after the first answer)`);
      answered = true;
      counts.answered += 1;
      reply(res);
    };
  }

  /** At the end of the run: each pod holds exactly what arrived and was not answered. */
  check(held: (pod: Pod) => number): void {
    for (const [pod, c] of this.byPod) {
      const holds = held(pod);
      if (c.arrived !== c.answered + holds) {
        this.violated(
          `${pod.label}: ${c.arrived} requests arrived, ${c.answered} answered and ${holds} still held — ` +
            `${c.arrived - c.answered - holds} unaccounted for`,
        );
      }
    }
  }
}
