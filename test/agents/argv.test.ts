import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadValidWorkstream } from "../../src/workstream/load.js";
import { buildPrompt } from "../../src/tools/prompt.js";
import { agentProject, calls, cleanup, outcomes, run, type AgentProject } from "./rig.js";

afterEach(cleanup);

/** The prompt ws builds for a step's first attempt, from the same file the run loaded. */
async function promptOf(project: AgentProject, stepId: string): Promise<string> {
  const file = path.join(project.dir, "workstreams", `${project.wsId}.json`);
  const { workstream } = await loadValidWorkstream(file, { cwd: project.dir, env: {} });
  const step = workstream.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`no step ${stepId}`);
  return buildPrompt({ workstream, step, cwd: project.tree, attempt: 1, feedback: undefined, stepDir: project.stepDir(stepId), env: {} });
}

const ARGV_WS = {
  id: "ws-argv",
  name: "argv per tool",
  execution: { max_workers: 2 },
  defaults: { model: "sonnet", retries: 0 },
  tools: {
    "my-aider": { command: "aider", args: ["--yes-always", "--message-file", "{prompt_file}", "--model", "{model}", "{files}"] },
  },
  steps: [
    // A glob in file_scope is only in the prompt for aider: it would create a file named "tests/**/*.py".
    { id: "a", tool: "aider", description: "Aider step", tasks: ["Write add"], file_scope: ["src/a.py", "tests/**/*.py"], read_only: ["README.md"], env: { WS_STEP_MARK: "a" } },
    { id: "c", tool: "claude", description: "Claude step", tasks: ["Write mul"], file_scope: ["src/c.py"], model: "opus" },
    { id: "x", tool: "codex", description: "Codex step", tasks: ["Write sub"], file_scope: ["src/x.py"] },
    { id: "g", tool: "gemini", description: "Gemini step", tasks: ["Write div"], file_scope: ["src/g.py"] },
    { id: "m", tool: "my-aider", description: "Custom step", tasks: ["Write mod"], file_scope: ["src/m.py", "src/m2.py"] },
  ],
};

describe("agent steps through ws run: argv", () => {
  it("gives each tool exactly the documented argv, in the worktree, with NO_COLOR/TERM and the step's env", async () => {
    const project = agentProject(ARGV_WS);
    const r = run(project);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({
      a: ["passed", 1, "passed"],
      c: ["passed", 1, "passed"],
      x: ["passed", 1, "passed"],
      g: ["passed", 1, "passed"],
      m: ["passed", 1, "passed"],
    });

    const byTool = Object.fromEntries(calls(project).map((c) => [c.prompt?.includes("Custom step") ? "my-aider" : c.tool, c]));
    const dir = project.stepDir;
    const expected: Record<string, string[]> = {
      aider: [
        "--message-file", path.join(dir("a"), "prompt-1.md"),
        "--yes-always",
        "--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
        "--no-pretty", "--no-stream", "--no-fancy-input",
        "--no-check-update", "--no-show-release-notes", "--no-analytics", "--no-detect-urls", "--no-suggest-shell-commands",
        "--no-show-model-warnings",
        "--chat-history-file", path.join(dir("a"), "aider.chat.history.md"),
        "--input-history-file", path.join(dir("a"), "aider.input.history"),
        "--map-tokens", "0",
        "--model", "sonnet",
        "--read", "README.md",
        "--", "src/a.py",
      ],
      claude: [
        // The prompt is stdin (any length; one argv element is capped at 128 KiB).
        "-p",
        "--output-format", "stream-json", "--verbose",
        "--permission-mode", "dontAsk",
        "--allowedTools", "Read,Grep,Glob,Edit(src/c.py),Write(src/c.py)",
        "--no-session-persistence",
        "--model", "opus",
      ],
      codex: [
        "exec", "--json", "--color", "never", "--sandbox", "workspace-write", "--skip-git-repo-check", "--ephemeral",
        "-C", String(byTool.codex?.cwd),
        "-o", path.join(dir("x"), "codex-last-message-1.md"),
        "-m", "sonnet",
        "-",
      ],
      gemini: ["-p", "", "-o", "stream-json", "--approval-mode", "auto_edit", "--skip-trust", "-m", "sonnet"],
      "my-aider": ["--yes-always", "--message-file", path.join(dir("m"), "prompt-1.md"), "--model", "sonnet", "src/m.py", "src/m2.py"],
    };
    expect(Object.keys(byTool).sort()).toEqual(Object.keys(expected).sort());
    for (const [tool, argv] of Object.entries(expected)) {
      const call = byTool[tool];
      expect(call?.error, tool).toBeUndefined();
      expect(call?.argv, tool).toEqual(argv);
      // Agents run in the worktree, never in the user's checkout.
      // Each step has a worktree of its own, outside the project.
      expect(path.dirname(fs.realpathSync(call?.cwd ?? "")), tool).toBe(path.dirname(project.tree));
      expect(call?.env, tool).toMatchObject({ NO_COLOR: "1", TERM: "dumb" });
    }
    expect(byTool.aider?.env.WS_STEP_MARK).toBe("a");
    expect(byTool.claude?.env.WS_STEP_MARK).toBeUndefined();
    // The prompt each tool read (argv or file) is the one ws built, byte for byte.
    for (const [tool, step] of Object.entries({ aider: "a", claude: "c", codex: "x", gemini: "g", "my-aider": "m" })) {
      expect(byTool[tool]?.prompt, tool).toBe(await promptOf(project, step));
    }
  });
});

// Everything a shell would act on: substitution, backticks, quotes, separators, newlines, globs, placeholders.
const HOSTILE = [
  "Create src/p.py $(touch pwned-subst) `touch pwned-tick`",
  "He said \"don't\" and 'do'; touch pwned-semi && touch pwned-and || touch pwned-or",
  "line one\nline two\n\ttabbed $HOME ${PATH} * ? [a] {files} {prompt} {prompt_file} | tee pwned-pipe > pwned-redirect",
];

describe("agent steps through ws run: prompt injection", () => {
  it("is inert for every tool: each gets the hostile text byte for byte and nothing runs it", async () => {
    const tools = ["aider", "claude", "codex", "gemini", "prompt-arg", "prompt-file"];
    const project = agentProject({
      id: "ws-inject",
      name: "injection",
      execution: { max_workers: 2 },
      tools: {
        "prompt-arg": { command: "gemini", args: ["-p", "{prompt}", "-o", "json"] },
        "prompt-file": { command: "aider", args: ["--yes-always", "--message-file", "{prompt_file}", "{files}"] },
      },
      steps: tools.map((tool) => ({ id: `s-${tool}`, tool, description: `Do \`it\` $(touch pwned-desc) for ${tool}`, tasks: HOSTILE, file_scope: [`src/${tool}.py`] })),
    });
    const r = run(project);
    expect(r.code).toBe(0);
    const seen = calls(project);
    expect(seen.map((c) => c.error)).toEqual(tools.map(() => undefined));
    expect(seen).toHaveLength(tools.length);
    for (const tool of tools) {
      const call = seen.find((c) => c.prompt?.includes(`for ${tool}\n`));
      expect(call, tool).toBeDefined();
      expect(call?.prompt, tool).toBe(await promptOf(project, `s-${tool}`));
      for (const task of HOSTILE) expect(call?.prompt, tool).toContain(task);
    }
    const pwned = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes("pwned")) : []);
    expect(pwned(project.dir)).toEqual([]);
    expect(pwned(path.dirname(project.log))).toEqual([]);
  });
});

describe("agent steps through ws run: outside a git repository", () => {
  it("runs the agents in place (codex is told to skip its git check), with no worktree", () => {
    const project = agentProject(
      {
        id: "ws-no-git",
        name: "no git",
        steps: [
          { id: "x", tool: "codex", tasks: ["x"], file_scope: ["x.txt"] },
          { id: "c", tool: "claude", tasks: ["c"], file_scope: ["c.txt"] },
        ],
      },
      { git: false, plan: { codex: [{ write: { path: "x.txt", content: "x\n" } }] } },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(calls(project).map((c) => [c.tool, c.error, fs.realpathSync(c.cwd)]).sort()).toEqual([
      ["claude", undefined, project.dir],
      ["codex", undefined, project.dir],
    ]);
    expect(fs.readFileSync(path.join(project.dir, "x.txt"), "utf8")).toBe("x\n");
    expect(fs.existsSync(project.tree)).toBe(false);
    expect(r.stdout).not.toContain("git merge");
  });
});
