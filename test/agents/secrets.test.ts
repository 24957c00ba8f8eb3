import { afterEach, describe, expect, it } from "vitest";
import { agentProject, calls, cleanup, events, run } from "./rig.js";

afterEach(cleanup);

const KEYS = {
  ANTHROPIC_API_KEY: "sk-ant-agent-0123456789",
  OPENAI_API_KEY: "sk-openai-0123456789",
  CODEX_API_KEY: "codex-0123456789",
  GEMINI_API_KEY: "gemini-0123456789",
  GITHUB_TOKEN: "ghp_agent0123456789",
};

describe("agent steps get their own tool's keys only", () => {
  it("claude gets ANTHROPIC_API_KEY, codex its keys, gemini its key, none gets GITHUB_TOKEN unless inherit_env names it", () => {
    const project = agentProject({
      id: "ws-keys",
      execution: { max_workers: 1 },
      steps: [
        { id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"] },
        { id: "x", tool: "codex", tasks: ["x"], file_scope: ["x.txt"] },
        { id: "g", tool: "gemini", tasks: ["x"], file_scope: ["g.txt"], inherit_env: ["GITHUB_TOKEN"] },
      ],
    });
    const r = run(project, [], { ...KEYS, FAKE_TOOL_ENV_KEYS: Object.keys(KEYS).join(",") });
    expect(r.code).toBe(0);
    const seen = Object.fromEntries(calls(project).map((c) => [c.tool, Object.keys(c.env).filter((k) => k in KEYS).sort()]));
    expect(seen).toEqual({
      claude: ["ANTHROPIC_API_KEY"],
      codex: ["CODEX_API_KEY", "OPENAI_API_KEY"],
      gemini: ["GEMINI_API_KEY", "GITHUB_TOKEN"],
    });
    const header = events(project).find((e) => e.type === "warning" && /secrets withheld/.test(String(e.message)));
    expect(header?.message).toMatch(/GITHUB_TOKEN \(c, x\)/);
    expect(header?.message).toMatch(/ANTHROPIC_API_KEY \(x, g\)/);
  });
});
