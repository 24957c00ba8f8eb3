import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempProjects, tempProjectOf, ws as runWs } from "../helpers/cli.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/workstream/", import.meta.url));

function ws(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return runWs(args, { cwd, env: { PATH: process.env.PATH, NO_COLOR: "1", ...env } });
}

const project = (files: Record<string, string | object>): string => tempProjectOf("ws-validate-", files);
afterAll(() => removeTempProjects());

const GOOD = { id: "good", steps: [{ id: "a", run: "echo a" }] };

describe("ws validate (built binary)", () => {
  it("exits 0 for valid files", () => {
    const r = ws(["validate", path.join(FIXTURES, "good", "full.json"), path.join(FIXTURES, "good", "minimal.yaml")], FIXTURES);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok       good/full.json");
    expect(r.stdout).toContain("2 files valid");
    expect(r.stderr).not.toContain("error");
  });

  it("a step's env values are interpolated: ws run passes the value, validate points at a bad expression", () => {
    const dir = project({
      "workstreams/greet.json": { id: "greet", execution: { isolation: "none" }, steps: [{ id: "a", run: 'echo "$GREETING" > out.txt', env: { GREETING: "hi-${env.WHO:-nobody}" } }] },
      "workstreams/bad.json": '{\n  "id": "bad",\n  "steps": [\n    { "id": "a", "run": "echo", "env": { "G": "hi-${WHO}" } }\n  ]\n}\n',
    });
    expect(ws(["validate", "workstreams/greet.json"], dir).code).toBe(0);
    expect(ws(["run", "greet"], dir, { WHO: "ann" }).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "out.txt"), "utf8")).toBe("hi-ann\n");
    expect(ws(["run", "greet"], dir).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "out.txt"), "utf8")).toBe("hi-nobody\n");
    const r = ws(["validate", "workstreams/bad.json"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workstreams/bad.json:4:51: error: unsupported expression "${WHO}"');
  });

  it("exits 2 with file:line:col, the source line, an underline and a fix; no stack trace", () => {
    const dir = project({
      "workstreams/typo.json": '{\n  "id": "typo",\n  "steps": [\n    { "id": "a", "run": "echo", "depend_on": [] }\n  ]\n}\n',
    });
    const r = ws(["validate", "workstreams/typo.json"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workstreams/typo.json:4:33: error: unknown key "depend_on" in steps[0]');
    expect(r.stderr).toContain('  4 |     { "id": "a", "run": "echo", "depend_on": [] }');
    expect(r.stderr).toMatch(/\n {4}\| {33}~{11}\n/);
    expect(r.stderr).toContain('fix: did you mean "depends_on"?');
    expect(r.stderr).toContain("1 error in 1 file");
    expect(r.stdout).toContain("invalid  workstreams/typo.json (1 error)");
    expect(r.stderr + r.stdout).not.toContain("    at ");
  });

  it("shows schema errors and graph errors at once, where the graph can still be built (issue 33.5)", () => {
    const text = [
      "{",
      '  "id": "both",',
      '  "steps": [',
      '    { "id": "a", "run": "echo", "retries": "two", "depends_on": ["b"] },',
      '    { "id": "b", "run": "echo", "depends_on": ["a", "nope"] },',
      '    { "id": "a", "run": "echo" }',
      "  ]",
      "}",
      "",
    ].join("\n");
    const dir = project({ "workstreams/both.json": text, "workstreams/noid.json": { id: "noid", steps: [{ run: "echo", depends_on: ["x"] }] } });
    const r = ws(["validate", "workstreams/both.json"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/both\.json:4:\d+: error: .*retries/);
    expect(r.stderr).toMatch(/both\.json:5:\d+: error: .*"nope"/);
    expect(r.stderr).toMatch(/error: cycle: a → b → a/);
    // The duplicate id is said once, not by both the raw check and the graph check.
    expect(r.stderr.match(/duplicate step id "a"/g)).toHaveLength(1);
    // A step without an id leaves no graph to check: its references are not called unknown.
    const noid = ws(["validate", "workstreams/noid.json"], dir);
    expect(noid.code).toBe(2);
    expect(noid.stderr).not.toContain('"x"');
  });

  it("reports every bad fixture with a position and never a stack trace", () => {
    // Every file of the bad-input corpus in one command: one file's error never hides another's.
    const corpus = fileURLToPath(new URL("../faults/", import.meta.url));
    const bad = fs.readdirSync(path.join(corpus, "bad-inputs")).map((n) => path.join("bad-inputs", n));
    const r = ws(["validate", ...bad], corpus);
    expect(r.code).toBe(2);
    for (const name of bad) expect(r.stderr).toMatch(new RegExp(`${name.replace(/[.\\]/g, "\\$&")}:\\d+:\\d+: error: `));
    expect(r.stderr).toContain(`in ${bad.length} files`);
    expect(r.stderr + r.stdout).not.toContain("    at ");
  });

  it("without arguments checks every file in workstreams/ and reports all of them", () => {
    const dir = project({
      "workstreams/good.json": GOOD,
      "workstreams/also-good.yaml": "id: also-good\nsteps:\n  - id: a\n    run: echo a\n",
      "workstreams/bad-one.json": { id: "bad-one", steps: [{ id: "a", run: "x", retries: -1 }] },
      "workstreams/bad-two.json": '{"id": "bad-two", "steps": [],}',
    });
    const r = ws(["validate"], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("ok       workstreams/good.json");
    expect(r.stdout).toContain("ok       workstreams/also-good.yaml");
    expect(r.stdout).toContain("invalid  workstreams/bad-one.json");
    expect(r.stdout).toContain("invalid  workstreams/bad-two.json");
    expect(r.stderr).toContain("workstreams/bad-one.json:7:18: error: steps[0].retries must be >= 0");
    expect(r.stderr).toContain("workstreams/bad-two.json:1:30: error: trailing comma");
    expect(r.stderr).toContain("2 of 4 files invalid");
  });

  it("--json prints every file with its diagnostics", () => {
    const dir = project({ "workstreams/good.json": GOOD, "workstreams/bad.json": { id: "bad", steps: [{ id: "a", tool: "shel", run: "x" }] } });
    const r = ws(["validate", "--json"], dir);
    expect(r.code).toBe(2);
    const parsed = JSON.parse(r.stdout) as { files: Array<{ file: string; valid: boolean; diagnostics: Array<{ message: string; fix?: string; location?: { line: number } }> }> };
    expect(parsed.files.map((f) => [f.file, f.valid])).toEqual([[path.join("workstreams", "bad.json"), false], [path.join("workstreams", "good.json"), true]]);
    const unknownTool = parsed.files[0]?.diagnostics.find((d) => d.message === 'unknown tool "shel"');
    expect(unknownTool).toMatchObject({ fix: 'did you mean "shell"?', location: { line: 6 } });
  });

  it("--ws-id validates one workstream; a bad or unknown id is one clear message and exit 2", () => {
    const dir = project({ "workstreams/ws-deploy-pipeline.json": { ...GOOD, id: "ws-deploy-pipeline" } });
    expect(ws(["validate", "--ws-id", "ws-deploy-pipeline"], dir).code).toBe(0);
    const unknown = ws(["validate", "--ws-id", "ws-deploy"], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ws: unknown workstream "ws-deploy"');
    expect(unknown.stderr).toContain("did you mean ws-deploy-pipeline?");
    const traversal = ws(["validate", "--ws-id", "../etc/passwd"], dir);
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain("invalid workstream id");
    expect(traversal.stderr).not.toContain("    at ");
  });

  it("honours --dir and says so when there is nothing to validate", () => {
    const dir = project({ "elsewhere/good.json": GOOD });
    expect(ws(["--dir", "elsewhere", "validate"], dir).code).toBe(0);
    const empty = ws(["validate"], dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no workstream files .* in workstreams/);
  });

  it("validates the bundled workstreams", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const r = ws(["validate", "workstreams/ws-dependency-diamond.json", "workstreams/ws-deploy-pipeline.json", "workstreams/ws-either-or.json"], root);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
  });
});
