// `meshsim tap`: the requests a workload served, as `linkerd viz tap` prints them, with the tls
// field the guide teaches users to read: `tls=true` from a meshed client, `tls=no_tls_from_remote`
// from one without a proxy. The scenario plays again, so the digest does not change.

import { describe, expect, it } from "vitest";
import { tapCommand, type TapCommandOptions } from "../src/cli/tap-command.js";
import { resolve } from "node:path";
import { fileReader } from "../src/cli/files.js";
import { loadScenario } from "../src/scenario/load.js";
import { runWorldSpec } from "../src/scenario/run.js";

function tap(file: string, opts: TapCommandOptions): { code: number; lines: string[]; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = tapCommand(file, opts, (s) => out.push(s), (s) => err.push(s));
  return { code, lines: out, err: err.join("\n") };
}

describe("meshsim tap", () => {
  it("prints req, rsp and end for each request a meshed client sent, tls=true", () => {
    const r = tap("scenarios/emojivoto.yaml", { to: "deploy/web", namespace: "emojivoto", max: "3" });
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(9);
    expect(r.lines[0]).toMatch(/^req id=0:1 proxy=in {2}src=demo\/emojivoto\/vote-bot-0 dst=demo\/emojivoto\/web-\d+ tls=true :method=(GET|POST) :authority=web-svc\.emojivoto\.svc\.cluster\.local:80 :path=\/api\//);
    expect(r.lines[1]).toMatch(/^rsp id=0:1 .* tls=true :status=\d{3} latency=\d+µs$/);
    expect(r.lines[2]).toMatch(/^end id=0:1 /);
  });

  it("says tls=no_tls_from_remote for a client without a proxy", () => {
    const r = tap("scenarios/canary/flagger-no-traffic.yaml", { to: "deploy/web-primary", namespace: "shop", max: "1" });
    expect(r.lines[0]).toMatch(/^req id=0:1 proxy=in {2}src=c\/shop\/loadgen-0 dst=c\/shop\/web-primary-\d+ tls=no_tls_from_remote :method=GET/);
  });

  it("filters by client, and does not change the run it plays", () => {
    const r = tap("scenarios/emojivoto.yaml", { to: "deploy/web", namespace: "emojivoto", from: "deploy/nobody", max: "3" });
    expect(r.lines).toEqual(["no requests reached emojivoto/web from nobody in this run"]);
    const loaded = loadScenario(resolve("scenarios/emojivoto.yaml"), fileReader);
    if (!loaded.ok) throw new Error("emojivoto should load");
    let heard = 0;
    const listened = runWorldSpec(loaded.spec, { requests: { served: () => void (heard += 1) } });
    expect(heard).toBeGreaterThan(0);
    expect(listened.world.digest).toBe(runWorldSpec(loaded.spec).world.digest);
    expect(tap("scenarios/emojivoto.yaml", { to: "deploy/ghost" }).code).toBe(2);
  });
});
