// The payments region-loss scenarios (see test/scenario-suite.ts).
import { describe } from "vitest";
import { itRunsEveryScenario } from "./scenario-suite.js";

describe("payments scenarios", () => itRunsEveryScenario("scenarios/payments"));
