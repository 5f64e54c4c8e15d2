// The metrics keep what the proxy's `response_total` labels say of each response: its
// classification, its HTTP status and its grpc-status (empty when it carried none), as
// linkerd2-proxy `linkerd/app/core/src/metrics.rs` (`FmtLabels for Class`) writes them; the
// report shows them per route for routes that answered gRPC.

import { describe, expect, it } from "vitest";
import { decodeResponseKey, responseKey } from "../../src/mesh/metrics-series.js";
import { MeshMetrics } from "../../src/mesh/metrics.js";
import { formatResponsesTable } from "../../src/report/tables.js";

const S = 1_000_000;
const labels = { traffic: "reserve", client: "demo/store/loadgen", service: "inventory", route: "inventory" };

describe("response_total labels", () => {
  it("encode and decode every class, status and grpc-status, none included", () => {
    for (const success of [true, false]) {
      for (const status of [100, 200, 404, 503, 599]) {
        for (const grpc of [undefined, 0, 2, 14, 16]) {
          expect(decodeResponseKey(responseKey(success, status, grpc), 3)).toEqual({
            classification: success ? "success" : "failure",
            status,
            ...(grpc === undefined ? {} : { grpcStatus: grpc }),
            count: 3,
          });
        }
      }
    }
  });

  it("are tallied per window for requests and attempts, statuses still summed by HTTP status", () => {
    const m = new MeshMetrics({ bucketUs: S, warmupUs: 0, durationUs: 10 * S, windows: [] });
    const req = m.request(labels);
    const att = m.attempt(labels);
    // 5 requests: 3 OK, 1 UNAVAILABLE (a failure), 1 without grpc-status (a success); 7 attempts.
    for (const [ok, grpc] of [[true, 0], [true, 0], [true, 0], [false, 14], [true, undefined]] as const) req.record(S, 2 * S, ok, 200, grpc);
    for (let i = 0; i < 3; i += 1) att.record(S, 2 * S, false, 200, 14);
    for (let i = 0; i < 4; i += 1) att.record(S, 2 * S, true, 200, 0);
    const s = m.query({ traffic: "reserve" }, [0, 10 * S]);
    expect(s.responses).toEqual([
      { classification: "failure", status: 200, grpcStatus: 14, count: 1 },
      { classification: "success", status: 200, grpcStatus: 0, count: 3 },
      { classification: "success", status: 200, count: 1 },
    ]);
    expect(s.attemptResponses).toEqual([
      { classification: "failure", status: 200, grpcStatus: 14, count: 3 },
      { classification: "success", status: 200, grpcStatus: 0, count: 4 },
    ]);
    expect([...s.statusCounts]).toEqual([[200, 5]]);
  });

  it("print per route, an empty grpc_status as -", () => {
    const table = formatResponsesTable(
      [
        { route: "inventory", service: "inventory", classification: "failure", status: 200, grpcStatus: 14, requests: 681 },
        { route: "inventory", service: "inventory", classification: "success", status: 200, requests: 1427 },
        { route: "[DEFAULT]", service: "emoji-svc", classification: "success", status: 200, grpcStatus: 0, requests: 7135 },
      ],
      (code) => ["OK", "", "", "", "", "", "", "", "", "", "", "", "", "", "UNAVAILABLE"][code] ?? "?",
    );
    expect(table).toBe(
      [
        "ROUTE         SERVICE   CLASSIFICATION   STATUS_CODE        GRPC_STATUS   REQUESTS",
        "[DEFAULT]   emoji-svc          success           200             0 (OK)       7135",
        "inventory   inventory          failure           200   14 (UNAVAILABLE)        681",
        "inventory   inventory          success           200                  -       1427",
        "",
      ].join("\n"),
    );
  });
});
