// `meshsim policy`: what a client's proxy applies to a Service at a simulated instant. The values
// come from the scenarios' own objects (the auth split's failover at 2m, the HTTPRoute's
// annotations) and from Linkerd's defaults (queue 10 000, fail-fast 3 s).

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { policyCommand, type PolicyCommandOptions } from "../src/cli/policy-command.js";

function policy(file: string, opts: PolicyCommandOptions): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = policyCommand(file, opts, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const AUTH = { from: "deploy/checkout", to: "svc/auth", namespace: "payments", cluster: "us-east-1" };

describe("meshsim policy", () => {
  it("shows the failover's effect on the split: auth itself at 1m, the west mirror at 4m", () => {
    const before = JSON.parse(policy("scenarios/payments/auth-loss.yaml", { ...AUTH, at: "1m", json: true }).out);
    expect(before).toMatchObject({ client: "us-east-1/payments/checkout", service: "payments/auth:80", source: "proxy", policy: { stack: "ServiceProfile" } });
    expect(before.policy.backends).toEqual([{ service: "payments/auth:80", weight: 10000 }]);
    const after = JSON.parse(policy("scenarios/payments/auth-loss.yaml", { ...AUTH, at: "4m", json: true }).out);
    expect(after.policy.backends).toEqual([{ service: "payments/auth-uswest2:80", weight: 10000 }]);
    expect(after.policy.routes.map((r: { name?: string }) => r.name ?? r)).toEqual(["GET /verify", "POST /capture", "[DEFAULT] (every other request; not retryable, no timeout)"]);
    expect(after.policy.failureAccrual).toMatch(/^off/);
  });

  it("shows the client-policy stack's merged retry and timeouts per rule, as YAML", () => {
    const r = policy("scenarios/httproute-retries.yaml", { from: "deploy/loadgen", to: "svc/web", namespace: "shop" });
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe("# shop/shop/loadgen (pod loadgen-0) → shop/web:80 at 0s: what the controllers would answer its proxy (it has not asked yet)");
    const doc = parse(r.out) as { stack: string; routes: Array<{ rules: Array<{ retry: unknown; timeouts: unknown }> }>; queue: unknown };
    expect(doc.stack).toBe("client policy");
    expect(doc.routes[0]?.rules[0]?.retry).toEqual({ limit: 2, statuses: ["500-599"], grpcCodes: [], perTryTimeout: "0.3s" });
    expect(doc.routes[0]?.rules[0]?.timeouts).toEqual({ request: "2s", response: "1s", idle: null });
    expect(doc.queue).toEqual({ capacity: 10000, failFast: "3s" });
  });

  it("refuses a client or Service the scenario does not have, and a malformed --from, with exit 2", () => {
    expect(policy("scenarios/httproute-retries.yaml", { from: "deploy/nobody", to: "svc/web", namespace: "shop" })).toMatchObject({ code: 2, err: expect.stringMatching(/there is no deployment shop\/nobody/) });
    expect(policy("scenarios/httproute-retries.yaml", { from: "deploy/loadgen", to: "svc/nothing", namespace: "shop" })).toMatchObject({ code: 2, err: expect.stringMatching(/there is no Service shop\/nothing/) });
    expect(policy("scenarios/httproute-retries.yaml", { from: "pod:x", to: "svc/web" }).code).toBe(2);
    expect(policy("scenarios/httproute-retries.yaml", { from: "deploy/loadgen", to: "svc/web", namespace: "shop", at: "1h" }).code).toBe(2);
  });
});
