import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/temp-dirs.js";
import { findOnPath } from "../../src/tools/binary.js";

const folder = tempDirs("ws-path-");

function tool(dir: string, name: string, mode = 0o755): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, "#!/bin/sh\n", { mode });
  return file;
}

describe("findOnPath: the first executable file on PATH, remembered but checked again", () => {
  it("skips folders, files without the x bit and empty entries, as execvp does", () => {
    const [a, b, c] = [folder(), folder(), folder()];
    fs.mkdirSync(path.join(a, "t"));
    tool(b, "t", 0o644);
    const want = tool(c, "t");
    expect(findOnPath("t", { PATH: ["", a, b, c].join(path.delimiter) })).toBe(want);
    expect(findOnPath("missing", { PATH: c })).toBeUndefined();
  });

  it("a remembered hit that was removed or lost its x bit is searched for anew", () => {
    const [a, b] = [folder(), folder()];
    const first = tool(a, "u");
    const second = tool(b, "u");
    const env = { PATH: [a, b].join(path.delimiter) };
    expect(findOnPath("u", env)).toBe(first);
    fs.chmodSync(first, 0o644);
    expect(findOnPath("u", env)).toBe(second);
    fs.rmSync(second);
    expect(findOnPath("u", env)).toBeUndefined();
    tool(b, "u");
    expect(findOnPath("u", env)).toBe(second);
  });
});
