import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Fail the way node does on CJS default/named export mix-ups (see README, "Stack notes").
    deps: { interopDefault: false },
    testTimeout: 60_000,
  },
});
