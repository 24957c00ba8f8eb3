import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, ws } from "./rig.js";

afterEach(cleanup);

/** Piped (plain) output of ws run: the seeds' console lines (issue 34.7). */
describe("ws run: starting in parallel, --stream, tests N/M passed", () => {
  const doc = {
    id: "lines",
    execution: { isolation: "none", max_workers: 3 },
    steps: [
      { id: "a", run: "echo hello from a", acceptance_tests: ["true", "test 1 = 1"] },
      { id: "b", run: "for i in $(seq 1 200); do echo flood $i; done" },
      { id: "c", run: 'echo "token is $MY_TOKEN"', env: { MY_TOKEN: "s3cr3t-value-42" } },
      { id: "d", run: "true", depends_on: ["a", "b", "c"] },
    ],
  };

  it("plain output says which steps start together and how many tests passed; without --stream no step output", () => {
    const p = makeProject([doc]);
    const r = ws(p, ["run", "lines"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const together = r.stdout.indexOf("starting 3 in parallel: a, b, c");
    expect(together).toBeGreaterThan(-1);
    expect(together).toBeLessThan(r.stdout.indexOf("start  a (attempt 1"));
    expect(r.stdout).not.toContain("starting 1 in parallel");
    expect(r.stdout).toMatch(/passed a after 1 attempt, \S+ · tests 2\/2 passed/);
    expect(r.stdout).not.toMatch(/passed d .*tests/);
    expect(r.stdout).not.toContain("[a] hello from a");
  });

  it("--stream prefixes each step's own lines, masks secrets and bounds a flood; --json stays one event a line", () => {
    const p = makeProject([doc]);
    const r = ws(p, ["run", "lines", "--stream"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\S+ \[a\] hello from a$/m);
    expect(r.stdout).toMatch(/\[c\] token is \*\*\*/);
    expect(r.stdout).not.toContain("s3cr3t-value-42");
    const flood = r.stdout.split("\n").filter((l) => / \[b\] flood \d+$/.test(l));
    expect(flood.length).toBeGreaterThan(0);
    expect(flood.length).toBeLessThan(200);
    expect(r.stdout).toMatch(/\[b\] … \d+ more lines \(all in ws logs lines --step b\)/);
    const json = ws(p, ["run", "lines", "--stream", "--json"]);
    expect(json.code).toBe(0);
    for (const line of json.stdout.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
