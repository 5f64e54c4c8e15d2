import { describe } from "vitest";
import { itRunsEveryScenario } from "./scenario-suite.js";
describe("retry-storm scenarios", () => itRunsEveryScenario("scenarios/retry-storms"));
