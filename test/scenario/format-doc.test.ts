// The committed format documentation is exactly what the schema generates, and the JSON Schema
// for editors describes the same sections, keys and defaults.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderFormatDoc } from "../../src/scenario/format-doc.js";
import { FAULT_KINDS, keysAllowedAt, METRICS, scenarioJsonSchema } from "../../src/scenario/schema.js";

const README = join(dirname(fileURLToPath(import.meta.url)), "../../scenarios/README.md");
const REGENERATE = `npx tsx -e 'import("./src/scenario/format-doc.ts").then(m => process.stdout.write(m.renderFormatDoc()))' > scenarios/README.md`;

describe("scenarios/README.md", () => {
  const doc = renderFormatDoc();

  it("is up to date with the schema", () => {
    expect(readFileSync(README, "utf8"), `regenerate with: ${REGENERATE}`).toBe(doc);
  });

  it("documents every top-level section, fault kind and metric", () => {
    for (const key of keysAllowedAt([])) expect(doc).toContain(`| \`${key}\` |`);
    for (const kind of FAULT_KINDS) expect(doc).toContain(`| \`faults[].${kind}\` |`);
    for (const metric of METRICS) expect(doc).toContain(`\`${metric}\``);
  });

  it("shows defaults as a user would write them", () => {
    expect(doc).toContain("| `mesh.proxy.latency` | distribution | {dist: constant, value: 150us} |");
    expect(doc).toContain("| `behavior[].concurrency` | integer | 32 |");
    expect(doc).toContain("| `seed` | integer or string | required |");
    expect(doc).toContain("| `links[].probePeriod` | duration | 3s |");
    expect(doc).toContain("| `mesh.failover.successRate.threshold` | number | 0.9 |");
    expect(doc).toContain("| `mesh.gateway.concurrency` | integer | 10000 |");
  });
});

describe("the JSON Schema", () => {
  const schema = scenarioJsonSchema() as {
    properties: Record<string, { default?: unknown; properties?: Record<string, unknown> }>;
    required: string[];
    additionalProperties: boolean;
  };

  it("has every section, refuses unknown keys and requires the identity", () => {
    expect(Object.keys(schema.properties)).toEqual(keysAllowedAt([]));
    expect(schema.additionalProperties).toBe(false);
    expect([...schema.required].sort()).toEqual(["clusters", "duration", "name", "seed"]);
  });

  it("carries the defaults in input form", () => {
    const proxy = schema.properties["mesh"]?.properties?.["proxy"] as { properties: { latency: { default: unknown } } };
    expect(proxy.properties.latency.default).toEqual({ dist: "constant", value: "150us" });
    expect(schema.properties["warmup"]?.default).toBe("0s");
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
