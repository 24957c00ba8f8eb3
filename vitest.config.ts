import { defineConfig } from "vitest/config";

// Integration tests spawn the built binary and real processes; on a 2-core machine they get
// generous timeouts, and no test asserts on wall-clock speed (benchmarks do that, in bench/).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/faults/**"] } },
      { extends: true, test: { name: "faults", include: ["test/faults/**/*.test.ts"] } },
    ],
  },
});
