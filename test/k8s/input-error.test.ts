// An input error is one line wherever it is shown, and what goes into a published JUnit file
// carries no value quoted from the input.

import { describe, expect, it } from "vitest";
import { formatInputError, formatInputErrorRedacted, type InputError } from "../../src/k8s/input-error.js";

const secret = "line one of a secret\nline two: hunter2\nline three";
const base: InputError = { file: "m.yaml", line: 4, col: 3, path: "spec.routes[0].name", message: `route name "${secret}" is not a string` };

describe("formatInputError", () => {
  it("keeps the whole message when it is one short line", () => {
    const e: InputError = { ...base, message: 'unknown field "timout"', expected: "a known field", suggestion: "timeout" };
    expect(formatInputError(e)).toBe('m.yaml:4:3: spec.routes[0].name: unknown field "timout" (expected a known field) — did you mean "timeout"?');
  });

  it("shows only the first line of a message quoting a multi-line value", () => {
    expect(formatInputError(base)).toBe('m.yaml:4:3: spec.routes[0].name: route name "line one of a secret …');
  });

  it("cuts a very long line at 300 characters", () => {
    const text = formatInputError({ ...base, message: `value "${"x".repeat(1000)}"` });
    expect(text).toBe(`m.yaml:4:3: spec.routes[0].name: value "${"x".repeat(293)}…`);
  });
});

describe("formatInputErrorRedacted (JUnit)", () => {
  it("replaces every quoted value with an ellipsis and keeps the location, path and expectation", () => {
    const e: InputError = { ...base, message: 'the key "hunter2" is not allowed; `kubectl apply` would say "nope"', expected: "a string" };
    expect(formatInputErrorRedacted(e)).toBe('m.yaml:4:3: spec.routes[0].name: the key "…" is not allowed; `…` would say "…" (expected a string)');
  });

  it("never carries a line of a multi-line value", () => {
    expect(formatInputErrorRedacted(base)).not.toMatch(/hunter2|secret/);
  });
});
