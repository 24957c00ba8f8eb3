import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readState, ws } from "./rig.js";

afterEach(cleanup);

describe("ws run: step outputs", () => {
  it("a dependent reads an ancestor's outputs in run, env, when and acceptance_tests; recorded in events and ws status --json", () => {
    const p = makeProject([
      {
        id: "outs",
        steps: [
          {
            id: "build",
            run: `echo 'version=1.2.3' >> "$WS_OUTPUT"; printf 'notes<<EOF\\nfirst line\\nsecond; $(rm -rf x)\\nEOF\\n' >> "$WS_OUTPUT"`,
          },
          {
            id: "ship",
            depends_on: ["build"],
            when: "${steps.build.outputs.version != ''}",
            env: { TAG: "v${steps.build.outputs.version}" },
            run: `printf '%s|%s|%s' "\${steps.build.outputs.version}" "$TAG" "\${steps.build.outputs.notes}" > shipped.txt`,
            acceptance_tests: [`test "$(head -n1 shipped.txt | cut -d'|' -f1)" = "\${steps.build.outputs.version}"`],
          },
          { id: "never", depends_on: ["build"], when: "${steps.build.outputs.version == '9'}", run: "touch never.txt" },
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "outs"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The value reached the shell as data: the $(rm ...) inside it was not run.
    expect(fs.readFileSync(path.join(p.dir, "shipped.txt"), "utf8")).toBe("1.2.3|v1.2.3|first line\nsecond; $(rm -rf x)");
    expect(fs.existsSync(path.join(p.dir, "never.txt"))).toBe(false);
    expect(readState(p, "outs").steps.never).toMatchObject({ state: "skipped" });
    const end = readEvents(p, "outs").find((e) => e.type === "step-end" && e.step === "build");
    expect(end?.outputs).toEqual({ version: "1.2.3", notes: "first line\nsecond; $(rm -rf x)" });
    const status = JSON.parse(ws(p, ["status", "--ws-id", "outs", "--json"]).stdout) as { steps: Record<string, { outputs?: Record<string, string> }> | Array<{ id: string; outputs?: Record<string, string> }> };
    const steps = Array.isArray(status.steps) ? Object.fromEntries(status.steps.map((s) => [s.id, s])) : status.steps;
    expect(steps.build?.outputs?.version).toBe("1.2.3");
    expect(ws(p, ["status", "--ws-id", "outs"]).stdout).toContain('outputs:\n  build.version = "1.2.3"');
  });

  it("--resume restores the outputs of steps passed before the interruption", () => {
    const p = makeProject([
      {
        id: "res",
        steps: [
          { id: "make", run: `echo "id=$$" >> "$WS_OUTPUT"` },
          { id: "use", depends_on: ["make"], run: `test -f go && echo "\${steps.make.outputs.id}" > used.txt` },
        ],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "res"]).code).toBe(1);
    const made = readEvents(p, "res").find((e) => e.type === "step-end" && e.step === "make")?.outputs as Record<string, string>;
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const resumed = ws(p, ["run", "--ws-id", "res", "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(fs.readFileSync(path.join(p.dir, "used.txt"), "utf8").trim()).toBe(made.id);
  });

  it("--only takes the outputs of a step it leaves out from the last run", () => {
    const p = makeProject([
      {
        id: "last",
        steps: [
          { id: "build", run: `echo "version=$$" >> "$WS_OUTPUT"` },
          { id: "ship", depends_on: ["build"], run: `echo "\${steps.build.outputs.version}" > shipped.txt` },
          { id: "lint", run: "true" },
        ],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "last"]).code).toBe(0);
    const built = readEvents(p, "last").find((e) => e.type === "step-end" && e.step === "build")?.outputs as Record<string, string>;
    fs.rmSync(path.join(p.dir, "shipped.txt"));
    const only = ws(p, ["run", "--ws-id", "last", "--only", "ship"]);
    expect(only.code, only.stdout + only.stderr).toBe(0);
    expect(fs.readFileSync(path.join(p.dir, "shipped.txt"), "utf8").trim()).toBe(built.version);
  });

  it("a reference to a step that is not an ancestor is refused before anything runs (exit 2, file:line:col, fix)", () => {
    const p = makeProject([{ id: "bad-ref", steps: [{ id: "a", run: "true" }, { id: "b", run: "echo ${steps.a.outputs.x}" }] }]);
    const r = ws(p, ["run", "--ws-id", "bad-ref"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-ref\.json:\d+:\d+: error: step "b" reads \$\{steps\.a\.outputs\.x\}/);
    expect(r.stderr).toContain('add "a" to the depends_on of "b"');
    expect(fs.existsSync(p.state("bad-ref"))).toBe(false);
  });

  it("JUnit and the Markdown summary list the outputs; --only takes an ancestor's outputs from WS_STEP_OUTPUTS (the GitHub export's hand-over)", () => {
    const p = makeProject([
      {
        id: "rep",
        steps: [
          { id: "build", run: `echo 'version=2.0' >> "$WS_OUTPUT"` },
          { id: "ship", depends_on: ["build"], run: `echo "\${steps.build.outputs.version}" > shipped.txt` },
        ],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "rep", "--junit", "j.xml", "--summary", "s.md"]).code).toBe(0);
    expect(fs.readFileSync(path.join(p.dir, "j.xml"), "utf8")).toContain('<property name="output.version" value="2.0"/>');
    expect(fs.readFileSync(path.join(p.dir, "s.md"), "utf8")).toContain("| build | version | 2.0 |");
    fs.rmSync(p.state("rep"), { recursive: true });
    const only = ws(p, ["run", "--ws-id", "rep", "--only", "ship"], { WS_STEP_OUTPUTS: JSON.stringify({ build: { version: "from-ci" } }) });
    expect(only.code, only.stdout + only.stderr).toBe(0);
    expect(fs.readFileSync(path.join(p.dir, "shipped.txt"), "utf8").trim()).toBe("from-ci");
  });
});

describe("ws run: step ids that are names of Object's own members", () => {
  it("runs, reports, resumes and exports steps called constructor, __proto__, hasOwnProperty (was exit 70)", () => {
    const p = makeProject([
      {
        id: "proto",
        steps: [
          { id: "constructor", run: `echo 'v=1' >> "$WS_OUTPUT"` },
          { id: "__proto__", depends_on: ["constructor"], run: 'test "${steps.constructor.outputs.v}" = 1' },
          { id: "hasOwnProperty", depends_on: ["__proto__"], run: "test -f go" },
          { id: "valueOf", depends_on: ["hasOwnProperty"], run: "true" },
        ],
      },
    ]);
    const first = ws(p, ["run", "--ws-id", "proto"]);
    expect(first.code, first.stderr).toBe(1);
    expect(readState(p, "proto").steps).toMatchObject({ constructor: { state: "passed" }, __proto__: { state: "passed" }, hasOwnProperty: { state: "failed" }, valueOf: { state: "blocked" } });
    for (const args of [["status", "--ws-id", "proto"], ["graph", "--ws-id", "proto"], ["export", "github", "proto", "--ws-from", `git+https://example.com/ws.git#${"0".repeat(40)}`], ["logs", "proto", "--step", "__proto__"]]) {
      const r = ws(p, args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    expect(JSON.parse(ws(p, ["status", "--ws-id", "proto", "--json"]).stdout).steps.__proto__).toMatchObject({ state: "passed" });
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const resumed = ws(p, ["run", "--ws-id", "proto", "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readState(p, "proto").steps).toMatchObject({ constructor: { state: "passed", attempts: 1 }, valueOf: { state: "passed" } });
  });
});
