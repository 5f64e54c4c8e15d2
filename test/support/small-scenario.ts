// The smallest useful scenario (one client calling one Service), shared by the CLI and API tests.

export interface SmallScenarioOptions {
  name?: string;
  duration?: string;
  rate?: string;
  /** Extra `expect:` entries, one flow mapping per string. */
  expect?: string[];
}

export function smallScenario(o: SmallScenarioOptions = {}): string {
  const expect = ["{name: all succeed, metric: successRate, where: {traffic: calls}, equals: 1}", ...(o.expect ?? [])];
  return `name: ${o.name ?? "small"}
seed: 1
duration: ${o.duration ?? "5s"}
clusters:
  - name: c
    services:
      - {name: api, namespace: app}
      - {name: client, namespace: app}
traffic:
  - {name: calls, from: {namespace: app, deployment: client}, to: "http://api.app.svc.cluster.local/", rate: ${o.rate ?? "20/s"}}
expect:
${expect.map((e) => `  - ${e}`).join("\n")}
`;
}
