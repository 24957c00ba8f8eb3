import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STACK_LINE, wsConcurrent, type Done } from "./helpers.js";

/**
 * The bad-input corpus: every file in test/faults/bad-inputs/ (plus big ones generated here) must
 * end in exit 2 with a `file:line:col` diagnostic and no stack trace, both through
 * `ws validate FILE` and through `ws run --ws-id <stem>` (which must not create any state either).
 *
 * `ws validate` checks the whole corpus in one process (it takes many files and gives each its own
 * verdict line and diagnostics): one ws start instead of ninety, half this file's CPU. `ws run`
 * takes one workstream, so each case still runs it in a project of its own.
 */

const CORPUS = fileURLToPath(new URL("./bad-inputs/", import.meta.url));

/** What each file's first error must say: the corpus is about the right message, not just exit 2. */
const EXPECTED: Record<string, RegExp> = {
  "absolute-scope.json": /file_scope entry "\/etc\/passwd" of step "a" is absolute/,
  "bad-interpolation.json": /unsupported expression/,
  "bad-on-failure.json": /on_failure must be/,
  "bom-trailing-comma.json": /:1:\d+: error: trailing comma/,
  "bom-unknown-key.json": /:3:3: error: unknown key "stpes"/,
  "comment.json": /comments are not allowed/,
  "compensate-on-run-if.json": /:5:79: error: step "report" runs with run_if "always", so it cannot have a compensation/,
  "compensate-wrong-type.json": /:4:47: error: steps\[0\]\.compensate must be a command string or an object/,
  "control-char.json": /control character/,
  "cycle-long.json": /cycle: a → d → c → b → a/,
  "cycle-self.json": /cycle: a → a/,
  "cycle-two.json": /cycle: a → b → a/,
  "deep-junk.json": /unknown key "junk"/,
  "depends-on-is-string.json": /depends_on must be a list/,
  "duplicate-keys.json": /duplicate key "run"/,
  "duplicate-step-ids.json": /duplicate step id "a"/,
  "empty.json": /:1:1: error: the file is empty/,
  "empty.yaml": /:1:1: error: the file is empty/,
  "group-cancel-rest-all.json": /:3:53: error: step group "g" has cancel_rest but succeeds only when all its steps pass/,
  "group-succeed-wrong.json": /:3:59: error: step_groups\[0\]\.succeed must be one of "all", "any"/,
  "group-unknown-step.json": /names unknown step "nope"/,
  "huge-number.json": /max_workers must be/,
  "id-is-number.json": /id must be a string/,
  "missing-comma.json": /:4:17: error: expected "," or "}"/,
  "missing-steps.json": /missing the required key "steps"/,
  "negative-timeout.json": /timeout must be >= 0/,
  "not-utf8.json": /not valid UTF-8/,
  // \u0000 is valid JSON, but no argv or environment can carry it: the spawn server hung on one.
  "nul-in-prompt.json": /:5:56: error: steps\[0\]\.tasks\[0\] holds a NUL byte/,
  "nul-in-run.yaml": /:4:16: error: steps\[0\]\.run holds a NUL byte/,
  "output-ref-not-ancestor.json": /:5:31: error: step "b" reads \$\{steps\.a\.outputs\.v\}, but "a" is not one of its dependencies/,
  "output-ref-unknown.json": /:5:73: error: step "b" reads the outputs of unknown step "biuld"/,
  "proto-key.json": /unknown key "__proto__"/,
  "retries-is-string.json": /retries must be a whole number/,
  "approval-wrong-type.json": /:5:75: error: steps\[1\]\.approval must be true or an object \{ "prompt", "timeout", "environment", "on_reject" \}, found string "yes please"/,
  "approval-unknown-key.json": /:5:96: error: unknown key "reviewers" in steps\[1\]\.approval/,
  "alias-bomb.yaml": /:6:8: error: too many alias expansions \(more than 100\)/,
  "bom-error.json": /:1:62: error: trailing comma is not allowed in JSON/,
  "duplicate-key.json": /:4:35: error: duplicate key "run"/,
  "id-mismatch.json": /:2:9: error: id "not-the-stem" does not match the file name "id-mismatch.json"/,
  "top-level-scalar.json": /:1:1: error: a workstream file must hold an object .*found a string/,
  "top-level-scalar.yaml": /:1:1: error: a workstream file must hold an object .*found a string/,
  "trailing-comma.json": /:4:35: error: trailing comma is not allowed in JSON/,
  "unclosed.json": /:5:1: error: unexpected end of file: an array is not closed/,
  "unknown-key.json": /:5:35: error: unknown key "depend_on" in steps\[1\]/,
  "unknown-tool.json": /:4:26: error: unknown tool "claud"/,
  "wrong-types.json": /:3:33: error: execution\.max_workers must be >= 1, found number 0/,
  "yaml-syntax.yaml": /:5:3: error: Flow sequence in block collection must be sufficiently indented/,
  "deep-nesting-schema.json": /:3:48: error: steps\[0\]\.env must be an object/,
  "deep-unclosed-short.json": /:4:1: error: unexpected end of file: an array is not closed/,
  "run-if-wrong.json": /:5:64: error: steps\[1\]\.run_if must be one of "success", "failure", "always"/,
  "scope-conflict.json": /file scopes overlap/,
  "shell-without-run.json": /shell step but has no "run"/,
  "single-quotes.json": /double quotes/,
  "slash-step-id.json": /steps\[0\]\.id must be an id/,
  "steps-is-object.json": /steps must be a list/,
  "top-level-array.json": /must hold an object/,
  "top-level-null.json": /must hold an object/,
  "trailing-comma-array.json": /:4:35: error: trailing comma/,
  "trailing-comma-object.json": /:3:44: error: trailing comma/,
  "traversal-read-only.json": /climbs out of the project/,
  "traversal-scope.json": /climbs out of the project/,
  "traversal-step-id.json": /steps\[0\]\.id must be an id/,
  "traversal-ws-id.json": /does not match the file name/,
  "unclosed-object.json": /unexpected end of file: an object is not closed/,
  "unclosed-string.json": /unterminated string/,
  "unknown-dep.json": /depends on unknown step "aa"/,
  "unknown-execution-key.json": /unknown key "max_worker" in execution/,
  "unknown-step-key.json": /unknown key "depend_on" in steps\[0\]/,
  "unknown-top-key.json": /unknown key "stesp"/,
  "whitespace-only.json": /the file is empty/,
  "yaml-alias-bomb.yaml": /too many alias expansions/,
  "yaml-bad-indent.yaml": /:5:\d+: error: /,
  "yaml-duplicate-key.yaml": /:5:5: error: Map keys must be unique/,
  "yaml-multi-doc.yaml": /:5:1: error: /,
  "yaml-python-tag.yaml": /steps\[0\]\.run must be a string/,
  "yaml-tabs.yaml": /Tabs are not allowed/,
  // An alias whose anchor does not exist is a typo, not an alias bomb.
  "yaml-unknown-alias.yaml": /:4:10: error: unknown alias "\*nowhere"/,
};

let generated: string;

/** Big inputs, built at run time rather than stored. */
function generate(dir: string): Record<string, RegExp> {
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
  const expected: Record<string, RegExp> = {};

  // ~10 MB of steps, one planted duplicate id near the end: its line is found exactly.
  const filler = "x".repeat(1000);
  const steps: string[] = [];
  for (let i = 0; i < 10_000; i++) steps.push(`    { "id": "s${i}", "run": "echo ${filler}" }`);
  steps.push(`    { "id": "s42", "run": "echo again" }`);
  write("big-steps.json", `{\n  "id": "big-steps",\n  "steps": [\n${steps.join(",\n")}\n  ]\n}\n`);
  expected["big-steps.json"] = new RegExp(`:${10_000 + 4}:\\d+: error: duplicate step id "s42"`);

  // 100k levels of nesting, closed and unclosed, in JSON and YAML.
  write("deep-nesting.json", `{ "id": "deep-nesting", "steps": [], "junk": ${"[".repeat(100_000)}${"]".repeat(100_000)} }\n`);
  expected["deep-nesting.json"] = /:1:\d+: error: /;
  write("deep-unclosed.json", `{ "id": "deep-unclosed", "steps": ${"[".repeat(100_000)}\n`);
  expected["deep-unclosed.json"] = /:2:1: error: unexpected end of file/;
  write("deep-nesting.yaml", `id: deep-nesting\nsteps: []\njunk: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
  expected["deep-nesting.yaml"] = /:\d+:\d+: error: /;
  write("deep-block.yaml", `id: deep-block\nsteps:\n${Array.from({ length: 5_000 }, (_, i) => `${"  ".repeat(i)}- `).join("\n")}x\n`);
  expected["deep-block.yaml"] = /:\d+:\d+: error: /;

  // A 5 MB line, and an alias bomb twenty levels deep (10^20 nodes if expanded).
  write("long-line.json", `{ "id": "long-line", "steps": [{ "id": "a", "run": "echo a" }], "notes": "${"n".repeat(5 * 1024 * 1024)}" }`);
  expected["long-line.json"] = /:1:\d+: error: unknown key "notes"/;
  const levels = Array.from({ length: 20 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(", ")}]`);
  write("alias-bomb-deep.yaml", `id: alias-bomb-deep\nl0: &l0 [lol]\n${levels.join("\n")}\nsteps:\n  - id: a\n    run: echo\n    env: *l20\n`);
  expected["alias-bomb-deep.yaml"] = /too many alias expansions/;
  return expected;
}

let expectedGenerated: Record<string, RegExp>;
const stored = fs.readdirSync(CORPUS).sort();
const BIG = ["big-steps.json", "deep-nesting.json", "deep-unclosed.json", "deep-nesting.yaml", "deep-block.yaml", "long-line.json", "alias-bomb-deep.yaml"];
const cases = [...stored.map((name) => ({ name, big: false })), ...BIG.map((name) => ({ name, big: true }))];

/** `ws validate` of every case at once, in one project holding them all. */
let batch: Done;

/**
 * The diagnostics `ws validate` printed for one file: each starts with a `file:line:col:` line
 * and runs until the next one or the count line, so one file's check cannot pass on another's text.
 */
function diagnosticsOf(stderr: string, file: string): string {
  const mine: string[] = [];
  let inMine = false;
  for (const line of stderr.split("\n")) {
    const header = /^(\S+):\d+:\d+: (?:error|warning|note): /.exec(line);
    if (header) inMine = header[1] === file;
    else if (/^\d+ (?:error|warning|note)s?(?:, \d+ (?:warning|note)s?)* in \d+ files?$/.test(line)) inMine = false;
    if (inMine) mine.push(line);
  }
  return mine.join("\n");
}

beforeAll(async () => {
  generated = fs.mkdtempSync(path.join(os.tmpdir(), "ws-faults-bad-"));
  expectedGenerated = generate(generated);
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "ws-faults-bad-validate-"));
  fs.mkdirSync(path.join(project, "workstreams"));
  const files = cases.map(({ name, big }) => {
    const inProject = path.join(project, "workstreams", name);
    fs.copyFileSync(path.join(big ? generated : CORPUS, name), inProject);
    return inProject;
  });
  try {
    batch = await wsConcurrent(["validate", ...files], project);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});
afterAll(() => fs.rmSync(generated, { recursive: true, force: true }));

describe("the bad-input corpus", () => {
  it("holds at least 30 files, each with its expected message", () => {
    expect(stored.length).toBeGreaterThanOrEqual(30);
    expect(stored.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((f) => !stored.includes(f))).toEqual([]);
  });

  it("ws validate of the whole corpus: exit 2, every file invalid, no stack", () => {
    expect(batch.code, batch.stderr).toBe(2);
    expect(batch.stderr).toContain(`${cases.length} of ${cases.length} files invalid`);
    expect(batch.stderr + batch.stdout).not.toMatch(STACK_LINE);
  });

  // Concurrent: each case has its own project, and most of a case is waiting for ws to start and
  // parse; the cases side by side keep both cores busy instead of one.
  it.concurrent.for(cases)("$name: exit 2, file:line:col, no stack (validate and run)", async ({ name, big }, { expect }) => {
    const source = path.join(big ? generated : CORPUS, name);
    const expected = big ? expectedGenerated[name] : EXPECTED[name];
    const stem = name.replace(/\.(json|ya?ml)$/, "");
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "ws-faults-bad-run-"));
    try {
      fs.mkdirSync(path.join(project, "workstreams"));
      const inProject = path.join(project, "workstreams", name);
      fs.copyFileSync(source, inProject);

      // This file's verdict and diagnostics in the batch (exit 2 is the batch's: any file invalid).
      expect(batch.code, batch.stderr).toBe(2);
      expect(batch.stdout).toMatch(new RegExp(`^invalid  workstreams/${name.replace(/\./g, "\\.")} \\(\\d+ errors?\\)$`, "m"));
      const v = diagnosticsOf(batch.stderr, `workstreams/${name}`);
      expect(v).toMatch(new RegExp(`^workstreams/${name.replace(/\./g, "\\.")}:\\d+:\\d+: error: `, "m"));
      expect(v).toMatch(expected!);
      expect(batch.stderr + batch.stdout).not.toMatch(STACK_LINE);

      const r = await wsConcurrent(["run", "--ws-id", stem], project);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^workstreams/${stem}\\.\\w+:\\d+:\\d+: error: `, "m"));
      expect(r.stderr).toMatch(expected!);
      expect(r.stderr + r.stdout).not.toMatch(STACK_LINE);
      expect(fs.existsSync(path.join(project, ".worktrees")), "an invalid workstream leaves no state").toBe(false);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

describe("bad workstream ids on the command line", () => {
  it.concurrent.for(["../../etc/passwd", "/etc/passwd", "..", "a/../../b", "-rf", ".hidden", "nul\u0001char", ""])("ws run --ws-id %j: exit 2, clear, no stack, no state", async (id, { expect }) => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "ws-faults-bad-id-"));
    try {
      fs.mkdirSync(path.join(project, "workstreams"));
      const r = await wsConcurrent(["run", `--ws-id=${id}`], project);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/invalid workstream id|unknown workstream/);
      expect(r.stderr + r.stdout).not.toMatch(STACK_LINE);
      expect(fs.existsSync(path.join(project, ".worktrees"))).toBe(false);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
