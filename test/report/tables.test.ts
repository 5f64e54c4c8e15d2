import { describe, expect, it } from "vitest";
import {
  formatEdgesTable,
  formatFixed,
  formatGatewaysTable,
  formatLatencyMs,
  formatNoTlsReason,
  formatPercent,
  formatRoutesTable,
  formatRps,
  formatStatTable,
  type GoldenMetrics,
  type RouteRow,
  type StatRow,
} from "../../src/report/tables.js";

const MS = 1_000;
const lines = (...ls: string[]) => ls.map((l) => `${l}\n`).join("");

function golden(requests: number, successRate: number, rps: number, p50Ms: number, p95Ms = p50Ms, p99Ms = p50Ms): GoldenMetrics {
  return { requests, successRate, rps, latencyUs: { p50: p50Ms * MS, p95: p95Ms * MS, p99: p99Ms * MS } };
}
const NONE = golden(0, NaN, 0, NaN);

describe("number formats follow the CLI's Go verbs", () => {
  it.each([
    [0.125, 2, "0.12"], // exact tie: Go rounds half to even, JS toFixed would say 0.13
    [0.375, 2, "0.38"],
    [2.5, 0, "2"],
    [3.5, 0, "4"],
    [1.05, 1, "1.1"], // 1.05 is stored a hair above the tie
    [-0.125, 2, "-0.12"],
    [93.33333, 2, "93.33"],
  ])("%%.Nf of %d with %d digits is %s", (x, digits, want) => expect(formatFixed(x, digits)).toBe(want));

  it("success rate: two decimals and %, no requests ⇒ 0 like upstream getSuccessRate", () => {
    expect(formatPercent(2 / 3)).toBe("66.67%");
    expect(formatPercent(1)).toBe("100.00%");
    expect(formatPercent(NaN)).toBe("0.00%");
  });
  it("rps: one decimal and rps", () => expect(formatRps(1.25)).toBe("1.2rps"));
  it("latency: whole ms rounded half away from zero; an empty quantile is 0ms", () => {
    expect(formatLatencyMs(14_500)).toBe("15ms");
    expect(formatLatencyMs(14_499)).toBe("14ms");
    expect(formatLatencyMs(NaN)).toBe("0ms");
  });
  it("no-TLS reasons print title-cased", () => {
    expect(formatNoTlsReason("not_provided_by_service_discovery")).toBe("Not Provided By Service Discovery");
    expect(formatNoTlsReason("loopback")).toBe("Loopback");
  });
});

describe("viz stat", () => {
  const rows: StatRow[] = [
    { namespace: "emojivoto", name: "web", meshedPods: 1, runningPods: 1, metrics: golden(60, 56 / 60, 1, 3, 14.4, 19.5) },
    { namespace: "emojivoto", name: "vote-bot", meshedPods: 1, runningPods: 1, metrics: NONE },
    { namespace: "emojivoto", name: "emoji", meshedPods: 1, runningPods: 1, metrics: golden(120, 1, 2, 1) },
  ];

  it("sorts by namespace/name, right-aligns numbers, pads names left, prints dashes without traffic", () => {
    expect(formatStatTable(rows)).toBe(
      lines(
        "NAME       MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99",
        "emoji         1/1   100.00%   2.0rps           1ms           1ms           1ms",
        "vote-bot      1/1         -        -             -             -             -",
        "web           1/1    93.33%   1.0rps           3ms          14ms          20ms",
      ),
    );
  });

  it("reproduces upstream's stat_all_output golden (NAMESPACE and TCP_CONN columns)", () => {
    const m = golden(120, 1, 2, 123);
    const all: StatRow[] = ["emojivoto2", "emojivoto1"].map((namespace) => ({
      namespace,
      name: "emoji",
      meshedPods: 1,
      runningPods: 2,
      metrics: m,
      tcpConnections: 123,
    }));
    expect(formatStatTable(all, { allNamespaces: true, tcpConnections: true })).toBe(
      lines(
        "NAMESPACE    NAME    MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN",
        "emojivoto1   emoji      1/2   100.00%   2.0rps         123ms         123ms         123ms        123",
        "emojivoto2   emoji      1/2   100.00%   2.0rps         123ms         123ms         123ms        123",
      ),
    );
  });

  it("says so when there is nothing to show", () => expect(formatStatTable([])).toBe("No traffic found.\n"));
});

describe("viz routes", () => {
  const row = (route: string, eff: GoldenMetrics, actual = { requests: eff.requests, successRate: eff.successRate, rps: eff.rps }): RouteRow => ({
    route,
    service: "foobar",
    effective: eff,
    actual,
  });

  it("reproduces upstream's routes_one_output_wide golden, blank line included", () => {
    const rows = [
      row("[DEFAULT]", golden(30, 1, 0.5, 123)),
      row("/b", golden(60, 1, 1, 123)),
      row("/a", golden(90, 1, 1.5, 123)),
      row("/c", NONE),
    ];
    expect(formatRoutesTable(rows)).toBe(
      lines(
        "ROUTE       SERVICE   EFFECTIVE_SUCCESS   EFFECTIVE_RPS   ACTUAL_SUCCESS   ACTUAL_RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99",
        "/a           foobar             100.00%          1.5rps          100.00%       1.5rps         123ms         123ms         123ms",
        "/b           foobar             100.00%          1.0rps          100.00%       1.0rps         123ms         123ms         123ms",
        "/c           foobar                   -               -                -            -             -             -             -",
        "[DEFAULT]    foobar             100.00%          0.5rps          100.00%       0.5rps         123ms         123ms         123ms",
        "",
      ),
    );
  });

  it("shows EFFECTIVE after retries next to ACTUAL per attempt", () => {
    // 100 requests at 10 rps, 99% effective; 125 attempts, 79.2% of them succeeded.
    const rows = [{ route: "GET /verify", service: "auth", effective: golden(100, 0.99, 10, 4.2, 48, 97.6), actual: { requests: 125, successRate: 0.792, rps: 12.5 } }];
    expect(formatRoutesTable(rows)).toBe(
      lines(
        "ROUTE         SERVICE   EFFECTIVE_SUCCESS   EFFECTIVE_RPS   ACTUAL_SUCCESS   ACTUAL_RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99",
        "GET /verify      auth              99.00%         10.0rps           79.20%      12.5rps           4ms          48ms          98ms",
        "",
      ),
    );
  });

  it("without -o wide, keeps SUCCESS and RPS; routes shorter than the header end up right-aligned as upstream", () => {
    expect(formatRoutesTable([row("/a", golden(6, 0.5, 0.1, 2))], { wide: false, authorityHeader: "AUTHORITY" })).toBe(
      lines("ROUTE   AUTHORITY   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99", "   /a      foobar    50.00%   0.1rps           2ms           2ms           2ms", ""),
    );
  });
});

describe("viz edges", () => {
  it("reproduces upstream's edges_one_output golden", () => {
    const edge = (src: string, dst: string, ns: string) => ({ src, dst, srcNamespace: ns, dstNamespace: ns });
    const rows = [
      edge("linkerd-identity", "linkerd-prometheus", "linkerd"),
      edge("web", "voting", "emojivoto"),
      edge("web", "emoji", "emojivoto"),
      edge("vote-bot", "web", "emojivoto"),
    ];
    expect(formatEdgesTable(rows)).toBe(
      lines(
        "SRC                DST                  SRC_NS      DST_NS      SECURED",
        "vote-bot           web                  emojivoto   emojivoto   √      ",
        "web                emoji                emojivoto   emojivoto   √      ",
        "web                voting               emojivoto   emojivoto   √      ",
        "linkerd-identity   linkerd-prometheus   linkerd     linkerd     √      ",
      ),
    );
  });

  it("wide output shortens identities to sa.ns and prints the reason an edge is not secured", () => {
    const rows = [
      {
        src: "checkout",
        dst: "auth",
        srcNamespace: "shop",
        dstNamespace: "payments",
        clientId: "checkout.shop.serviceaccount.identity.linkerd.cluster.local",
        serverId: "auth.payments.serviceaccount.identity.linkerd.cluster.local",
      },
      { src: "checkout", dst: "legacy", srcNamespace: "shop", dstNamespace: "shop", clientId: "checkout.shop.serviceaccount.identity.linkerd.cluster.local", noTlsReason: "Not Provided By Service Discovery" },
    ];
    expect(formatEdgesTable(rows, { wide: true })).toBe(
      lines(
        "SRC        DST      SRC_NS   DST_NS     CLIENT_ID       SERVER_ID       SECURED                          ",
        "checkout   auth     shop     payments   checkout.shop   auth.payments   √                                ",
        "checkout   legacy   shop     shop       checkout.shop                   Not Provided By Service Discovery",
      ),
    );
  });

  it("says so when there are no edges", () => expect(formatEdgesTable([])).toBe("No edges found.\n"));
});

describe("multicluster gateways", () => {
  it("pads to the cli/table minimum widths with two spaces after every column, sorted by cluster", () => {
    const rows = [
      { cluster: "west", alive: false, numSvc: 1 },
      { cluster: "east", alive: true, numSvc: 3, latencyMs: 42.4 },
    ];
    expect(formatGatewaysTable(rows)).toBe(
      lines(
        "CLUSTER  ALIVE    NUM_SVC      LATENCY  ",
        "east     True           3         42ms  ",
        "west     False          1            -  ",
      ),
    );
  });

  it("widens the flexible columns for long cluster names", () => {
    expect(formatGatewaysTable([{ cluster: "us-west-2", alive: true, numSvc: 12, latencyMs: 71 }])).toBe(
      lines("CLUSTER    ALIVE    NUM_SVC      LATENCY  ", "us-west-2  True          12         71ms  "),
    );
  });
});
