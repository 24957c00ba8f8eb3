import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/temp-dirs.js";
import { collectArtifacts } from "../../src/engine/artifacts.js";

const temp = tempDirs("ws-artifacts-");

/** A lane with dist/ files stamped at the given times (ms since the epoch). */
function lane(files: Record<string, number>): string {
  const dir = temp();
  for (const [name, at] of Object.entries(files)) {
    const file = path.join(dir, "dist", name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, name);
    fs.utimesSync(file, at / 1000, at / 1000);
  }
  return dir;
}

describe("collectArtifacts: only what the passing attempt wrote", () => {
  const since = Date.parse("2026-12-07T06:00:00.600Z");

  it("leaves out a file written earlier in the same second (a run right after the last one)", () => {
    const cwd = lane({ "old.tar.gz": since - 400, "new.tar.gz": since + 50 });
    const got = collectArtifacts({ cwd, patterns: ["dist/*.tar.gz"], to: path.join(cwd, "out"), since });
    expect(got).toEqual({ files: ["dist/new.tar.gz"], unmatched: [], stale: 1 });
    expect(fs.readdirSync(path.join(cwd, "out", "dist"))).toEqual(["new.tar.gz"]);
  });

  it("counts a file stamped a few ms before the start (the kernel's coarse clock), not one 100 ms before", () => {
    const cwd = lane({ "tick.whl": since - 4, "before.whl": since - 100 });
    expect(collectArtifacts({ cwd, patterns: ["dist/*.whl"], to: path.join(cwd, "out"), since }).files).toEqual(["dist/tick.whl"]);
  });

  it("on a file system of whole seconds, compares the second only", () => {
    const cwd = lane({ "coarse.whl": Date.parse("2026-12-07T06:00:00.000Z"), "older.whl": Date.parse("2026-12-07T05:59:59.000Z") });
    expect(collectArtifacts({ cwd, patterns: ["dist/*.whl"], to: path.join(cwd, "out"), since }).files).toEqual(["dist/coarse.whl"]);
  });
});
