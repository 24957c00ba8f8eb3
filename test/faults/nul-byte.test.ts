import { afterAll, afterEach, describe, expect, it } from "vitest";
import { events, killRunning, project, removeProjects, STACK_LINE, status, wsConcurrent } from "./helpers.js";

/**
 * A NUL byte on its way into a process (an argument, an environment value). No C string can carry
 * one; the spawn server read past the end of the job's record and the attempt hung for good, so
 * the run never ended. A literal `\u0000` in a workstream is a validation error (the bad-input
 * corpus: nul-in-*); a step output is not known until the run, so it reaches the spawn. Both
 * spawn paths, whatever WS_SPAWN this suite runs with.
 */

const ID = "nul";
const WORKSTREAM = {
  id: ID,
  execution: { isolation: "none" },
  tools: { echoer: { command: "echo", args: ["{prompt}"] } },
  steps: [
    // Writes an output holding a NUL byte: valid, it is data.
    { id: "a", run: `printf 'v=x\\000y\\n' >> "$WS_OUTPUT"` },
    // The output goes into a custom tool's {prompt}: an argument.
    { id: "prompt", tool: "echoer", tasks: ["say ${steps.a.outputs.v}"], file_scope: ["said.txt"], depends_on: ["a"] },
    // In a command it becomes a shell variable: an environment value.
    { id: "env", run: 'echo "${steps.a.outputs.v}"', depends_on: ["a"] },
    // The rest of the run goes on.
    { id: "c", run: "echo c" },
    { id: "d", run: "echo d", depends_on: ["c"] },
  ],
};

afterEach(async () => {
  await killRunning();
});
afterAll(() => removeProjects());

describe.each(["server", "direct"])("a NUL byte reaching a spawn (%s)", (spawn) => {
  it("fails that step at once with a spawn error naming it; the others run; exit 1", async () => {
    const dir = project([WORKSTREAM]);
    const r = await wsConcurrent(["run", ID], dir, { WS_SPAWN: spawn });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);

    const steps = status(dir, ID).steps;
    expect(Object.fromEntries(Object.entries(steps).map(([id, s]) => [id, s.state === "failed" ? `failed ${s.reason ?? ""}` : s.state]))).toEqual({
      a: "passed",
      prompt: "failed spawn_error",
      env: "failed spawn_error",
      c: "passed",
      d: "passed",
    });
    const detail = (step: string) => (events(dir, ID).find((e) => e.type === "step-end" && e.step === step) as { detail?: string } | undefined)?.detail;
    expect(detail("prompt")).toMatch(/^cannot start \S*echo: argument 1 holds a NUL byte/);
    expect(detail("env")).toMatch(/^cannot start \S+: the environment variable "WS_OUT_A_V" holds a NUL byte/);
    // No retry spent on it: an argument does not change between attempts.
    expect(steps.prompt?.attempts).toBe(1);
  });
});
