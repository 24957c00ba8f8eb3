import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { agentProject, calls, cleanup as cleanupAgents, readState as agentState, run } from "../agents/rig.js";
import { cleanup, makeProject, readState, ws } from "./rig.js";

// A compensation is one more process of its step: what contains the step's attempts contains it
// too (the secrets the step was not given, the sandbox).

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  cleanup();
  cleanupAgents();
});

const PRINTS_ENV = fileURLToPath(new URL("../fixtures/proc/prints-env.sh", import.meta.url));
const bwrapWorks = spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]).status === 0;

const SECRETS = {
  ANTHROPIC_API_KEY: "sk-ant-test-0123456789",
  GITHUB_TOKEN: "ghp_test0123456789abcdef",
  MY_SERVICE_TOKEN: "svc-test-0123456789",
  PLAIN_SETTING: "visible-setting",
};

type CompensationState = { steps: Record<string, { compensation?: { state: string } }> };

describe("ws run: a compensation's secrets", () => {
  it("a secret withheld from a step is withheld from its compensation; one the step is given, it gets", () => {
    const p = makeProject([
      {
        id: "keys",
        steps: [
          { id: "plain", run: PRINTS_ENV, compensate: PRINTS_ENV },
          { id: "given", run: PRINTS_ENV, inherit_env: ["GITHUB_TOKEN"], compensate: PRINTS_ENV },
          { id: "bad", run: "exit 1", depends_on: ["plain", "given"] },
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "keys"], SECRETS);
    expect(r.code).toBe(1);
    const log = (step: string, file: string) => fs.readFileSync(path.join(p.state("keys"), "steps", step, file), "utf8");
    expect((readState(p, "keys") as unknown as CompensationState).steps.plain?.compensation?.state).toBe("passed");
    for (const file of ["attempt-1.log", "compensate.log"]) {
      const plain = log("plain", file);
      for (const name of ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_SERVICE_TOKEN"]) expect(plain, file).toContain(`${name}=unset`);
      expect(plain, file).toContain("PLAIN_SETTING=visible-setting");
      const given = log("given", file);
      expect(given, file).toContain(`GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}`);
      expect(given, file).toContain("ANTHROPIC_API_KEY=unset");
    }
  });
});

describe("ws run: an agent compensation", () => {
  it("gets its tasks as its prompt on stdin, like an attempt", () => {
    const project = agentProject({
      id: "ws-comp-agent",
      steps: [
        { id: "s", tool: "shell", run: "true", compensate: { tool: "claude", tasks: ["Undo the release notes"] } },
        { id: "bad", tool: "shell", run: "exit 1", depends_on: ["s"] },
      ],
    });
    const r = run(project);
    expect(r.code).toBe(1);
    expect((agentState(project) as unknown as CompensationState).steps.s?.compensation?.state).toBe("passed");
    const claude = calls(project).filter((c) => c.tool === "claude");
    expect(claude).toHaveLength(1);
    expect(claude[0]?.prompt).toContain("Undo the release notes");
  });
});

describe.runIf(bwrapWorks)("ws run: a compensation of a sandboxed run", () => {
  it("runs in the sandbox: it cannot write outside the worktree, and its /tmp is private", () => {
    // Outside /tmp (the sandbox's /tmp is private, so a write there lands in the sandbox only).
    const elsewhere = fs.mkdtempSync(path.join(os.homedir(), ".ws-comp-elsewhere-"));
    scratch.push(elsewhere);
    const privateTmp = path.join(os.tmpdir(), `ws-comp-private-${randomBytes(6).toString("hex")}`);
    const wsDoc = {
      id: "ws-comp-box",
      execution: { isolation: "sandbox", max_workers: 1 },
      steps: [
        { id: "outside", run: "true", compensate: `echo pwned > ${elsewhere}/by-compensation.txt` },
        { id: "tmp", run: "true", compensate: `echo private > ${privateTmp}`, depends_on: ["outside"] },
        { id: "bad", run: "exit 1", depends_on: ["tmp"] },
      ],
    };
    const project = agentProject(wsDoc);
    const r = run(project);
    expect(r.code).toBe(1);
    const steps = (agentState(project) as unknown as CompensationState).steps;
    expect(steps.outside?.compensation?.state).toBe("failed");
    expect(steps.tmp?.compensation?.state).toBe("passed");
    expect(fs.readFileSync(path.join(project.stepDir("outside"), "compensate.log"), "utf8")).toMatch(/Read-only file system/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(fs.existsSync(privateTmp)).toBe(false);
  });
});
