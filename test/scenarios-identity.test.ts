// The identity scenarios and the mesh behaviour scenarios (see test/scenario-suite.ts).
import { describe } from "vitest";
import { itRunsEveryScenario } from "./scenario-suite.js";

describe("identity scenarios", () => itRunsEveryScenario("scenarios/identity"));
describe("mesh behaviour scenarios", () => itRunsEveryScenario("test/fixtures/mesh"));
