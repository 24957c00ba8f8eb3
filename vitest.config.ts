import os from "node:os";
import { defineConfig } from "vitest/config";

// Integration tests spawn the built binary and real processes; on a 2-core machine they get
// generous timeouts, and no test asserts on wall-clock speed (benchmarks do that, in bench/).

/**
 * Files whose tests signal ws and time out steps that must have started within a second: they run
 * one at a time at the end (with the fault suite), never beside other files, so a loaded machine
 * cannot stretch the start of a step past its timeout.
 */
const SERIAL = ["test/run/signals.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Each file's temp files go to a root of its own, removed after the file (test/setup/temp-root.ts).
    setupFiles: ["test/setup/temp-root.ts"],
    projects: [
      // Most of a file's time is waiting for the processes it spawned, so one more file than there
      // are cores keeps them busy (vitest's default, cores - 1, ran one file at a time on 2 cores).
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/faults/**", ...SERIAL], maxWorkers: os.availableParallelism() + 1 },
      },
      // maxWorkers 1: vitest runs these files one by one, after the others.
      { extends: true, test: { name: "serial", include: SERIAL, maxWorkers: 1 } },
      { extends: true, test: { name: "faults", include: ["test/faults/**/*.test.ts"], maxWorkers: 1 } },
    ],
  },
});
