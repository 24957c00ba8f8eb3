import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError } from "../../src/errors.js";
import { adapterFor, findMissingTools, resolveToolBinary } from "../../src/tools/registry.js";
import { binaryEnvVar } from "../../src/tools/binary.js";
import { FAKE_TOOLS, makeStep, makeWorkstream, tempDir } from "./helpers.js";

function executable(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return file;
}

describe("resolveToolBinary", () => {
  const ws = makeWorkstream([], { tools: { "fake-agent": { command: "fake-agent-cmd", args: [], env: {} } } });

  it("finds a built-in tool on PATH", () => {
    expect(resolveToolBinary(ws, "aider", { PATH: `/nonexistent${path.delimiter}${FAKE_TOOLS}` })).toBe(path.join(FAKE_TOOLS, "aider"));
  });

  it("prefers WS_AIDER_BIN, and a WS_*_BIN that is not there means missing", () => {
    const dir = tempDir();
    const mine = executable(dir, "my-aider");
    expect(resolveToolBinary(ws, "aider", { PATH: FAKE_TOOLS, WS_AIDER_BIN: mine })).toBe(mine);
    expect(resolveToolBinary(ws, "aider", { PATH: FAKE_TOOLS, WS_AIDER_BIN: path.join(dir, "nope") })).toBeUndefined();
  });

  it("is undefined when not on PATH, and skips files that are not executable", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "claude"), "not executable", { mode: 0o644 });
    expect(resolveToolBinary(ws, "claude", { PATH: dir })).toBeUndefined();
    expect(resolveToolBinary(ws, "claude", {})).toBeUndefined();
  });

  it("resolves a custom tool's command, overridable by its WS_<NAME>_BIN (dashes become underscores)", () => {
    const dir = tempDir();
    const cmd = executable(dir, "fake-agent-cmd");
    expect(binaryEnvVar("fake-agent")).toBe("WS_FAKE_AGENT_BIN");
    expect(resolveToolBinary(ws, "fake-agent", { PATH: dir })).toBe(cmd);
    const other = executable(dir, "other");
    expect(resolveToolBinary(ws, "fake-agent", { PATH: dir, WS_FAKE_AGENT_BIN: other })).toBe(other);
  });

  it("shell needs /bin/sh", () => {
    expect(resolveToolBinary(ws, "shell", {})).toBe("/bin/sh");
  });
});

describe("findMissingTools", () => {
  it("lists each missing tool once with every step that needs it", () => {
    const steps = [
      makeStep({ id: "a", tool: "aider" }),
      makeStep({ id: "b", tool: "claude" }),
      makeStep({ id: "c", tool: "aider" }),
      makeStep({ id: "d", tool: "shell", run: "true" }),
      makeStep({ id: "e", tool: "codex" }),
    ];
    const ws = makeWorkstream(steps);
    const dir = tempDir();
    const env = { PATH: dir, WS_CODEX_BIN: executable(dir, "my-codex") };
    expect(findMissingTools(ws, steps, env)).toEqual([
      { tool: "aider", binary: "aider", steps: ["a", "c"] },
      { tool: "claude", binary: "claude", steps: ["b"] },
    ]);
    expect(findMissingTools(ws, steps, { PATH: FAKE_TOOLS })).toEqual([]);
  });

  it("names the override it looked for", () => {
    const steps = [makeStep({ id: "a", tool: "gemini" })];
    expect(findMissingTools(makeWorkstream(steps), steps, { PATH: FAKE_TOOLS, WS_GEMINI_BIN: "/nonexistent/gemini" })).toEqual([
      { tool: "gemini", binary: "/nonexistent/gemini", steps: ["a"] },
    ]);
  });
});

describe("adapterFor", () => {
  it("returns built-ins, then the workstream's tools, else a user error", () => {
    const ws = makeWorkstream([], { tools: { mine: { command: "mine", args: [], env: {} } } });
    for (const tool of ["aider", "claude", "codex", "gemini", "shell"]) expect(adapterFor(ws, tool).name).toBe(tool);
    expect(adapterFor(ws, "mine").name).toBe("mine");
    for (const name of ["nope", "toString", "constructor"]) {
      let error: unknown;
      try {
        adapterFor(ws, name);
      } catch (e) {
        error = e;
      }
      expect(isUserError(error)).toBe(true);
    }
  });
});
