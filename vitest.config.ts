import os from "node:os";
import { defineConfig } from "vitest/config";
import LongestFirst from "./test/setup/longest-first.js";

// Integration tests spawn the built binary and real processes; on a 2-core machine they get
// generous timeouts, and no test asserts on wall-clock speed (benchmarks do that, in bench/).
// Files run side by side, so a test shares the cores: its timeout is a safety net against a hang
// only (a ws clean test of seven ws calls took over 60 s on a 2-core machine loaded by others).

/**
 * Files whose tests time out steps that must have started within a second: they run at the end
 * (with the fault suite), never beside the other files, so a loaded machine cannot stretch the
 * start of a step past its timeout. (ws signalled at recorded points: test/run/interrupts.test.ts.)
 */
const SERIAL = [
  "test/run/signals.test.ts",
  // Compares a run's estimate with what it took (a ratio, after one run measured the same steps):
  // beside a full parallel phase, the load of the first run and the second differ too much.
  "test/run/estimate.test.ts",
];

/**
 * The end group (serial and faults): one file per core, after every other file. Each of these
 * runs one ws at a time, mostly waiting on its steps, timeouts and grace periods; one by one they
 * left a core idle for ~45 s on a 2-core machine. One per core still leaves each its own core.
 */
const END = { maxWorkers: os.availableParallelism(), sequence: { groupOrder: 1 } };

/**
 * In-process tests, and tests that drive only the built binary (and the fakes, git and npm beside
 * it), killing in their own cleanup whatever they start in the background (see "unit" below).
 * Not the ones that run processes in-process (engine, git, tools, proc): ws's spawn server lives as
 * long as the process that started it, with its fifos in that file's temp root, which is gone for
 * the next file.
 */
const SHARED = [
  ...["cli", "export", "graph", "render", "report", "store", "workstream", "run", "agents", "guard", "examples", "install", "real-cli"].map((dir) => `test/${dir}/**/*.test.ts`),
  // Files of those folders that never reach the spawn server and restore what they change
  // (vi.stubEnv): plain functions, the scheduler on a virtual clock, the approval gates on
  // in-memory streams, git through execa, the fake agents spawned directly.
  ...["approvals", "breaker", "compensation", "groups", "outputs", "run-if", "scheduler.property"].map((name) => `test/engine/${name}.test.ts`),
  ...["line-splitter", "simple-command"].map((name) => `test/proc/${name}.test.ts`),
  ...["argv", "custom", "failure-kinds", "fakes", "injection", "parsers", "prompt", "quota"].map((name) => `test/tools/${name}.test.ts`),
  ...["branch-name", "changes", "commit", "merge-check", "repo", "run-git", "scope-check", "working-tree-base", "worktree"].map((name) => `test/git/${name}.test.ts`),
];

/**
 * Part of the fault suite (CI runs both again on each spawn path, WS_SPAWN=perl and direct), but timing-free: bad inputs,
 * and disk trouble, whose runs are held at each point by the step fixture's marker files.
 */
const INPUTS = ["test/faults/bad-inputs.test.ts", "test/faults/disk.test.ts"];

const WORKERS = os.availableParallelism() + 1;

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The longest files start first whatever their project, so the parallel phase does not end on one.
    sequence: { sequencer: LongestFirst },
    // Each file's temp files go to a root of its own, removed after the file (test/setup/temp-root.ts).
    setupFiles: ["test/setup/temp-root.ts"],
    projects: [
      // Most of a file's time is waiting for the processes it spawned, so one more file than there
      // are cores keeps them busy (vitest's default, cores - 1, ran one file at a time on 2 cores).
      // Files that leave no process running and restore any global they change (process.env, spies)
      // share their workers: a fresh process and module graph per file cost ~0.6 s of CPU each.
      { extends: true, test: { name: "unit", include: SHARED, exclude: SERIAL, isolate: false, maxWorkers: WORKERS } },
      // A fresh process per file: these run ws's process and git code in-process, or change process-wide state.
      { extends: true, test: { name: "integration", include: ["test/**/*.test.ts"], exclude: ["test/faults/**", ...SHARED, ...SERIAL], maxWorkers: WORKERS } },
      // The timing-sensitive files, in the end group (END): after every file above.
      { extends: true, test: { name: "serial", include: SERIAL, ...END } },
      { extends: true, test: { name: "faults", include: ["test/faults/**/*.test.ts"], exclude: INPUTS, ...END } },
      // The fault suite's timing-free files: no signal, no step timeout, so they run beside the
      // other files (bad inputs 25 s and disk 5 s one by one at the end before).
      { extends: true, test: { name: "inputs", include: INPUTS, maxWorkers: WORKERS } },
    ],
  },
});
