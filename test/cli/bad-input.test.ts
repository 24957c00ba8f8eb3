import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, cleanup, makeProject, readRecord, recStep, ws } from "../run/rig.js";

afterEach(cleanup);

/** Bad input of issue 14: each must be exit 2 with a message naming the culprit, never a hang or exit 70. */
describe("bad input is a usage error (exit 2), found before any step starts", () => {
  it("--dir naming a file", () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    fs.writeFileSync(path.join(p.dir, "afile"), "{}");
    for (const args of [["list"], ["validate"], ["status"], ["run", "ci"], ["graph", "ci"]]) {
      const r = ws(p, [...args, "--dir", "afile"]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain("afile is a file, not a folder");
    }
    expect(readRecord(p)).toEqual([]);
  });

  it("a FIFO named as a workstream does not hang", () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    execFileSync("mkfifo", [path.join(p.dir, "workstreams", "pipe.json")]);
    const run = ws(p, ["run", "pipe"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("pipe.json is a named pipe (FIFO), not a workstream file");
    const validate = ws(p, ["validate", "workstreams/pipe.json"]);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain("is a named pipe (FIFO), not a workstream file");
    // The folder's other files still list and validate.
    expect(ws(p, ["validate"]).code).toBe(0);
  });

  it("an unreadable workstreams folder", () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    fs.chmodSync(p.dir, 0o755);
    fs.chmodSync(path.join(p.dir, "workstreams"), 0o000);
    try {
      // Permissions mean nothing to root, so when the tests run as root (CI does) the command runs
      // without the capabilities that bypass them; running it as `nobody` instead fails wherever
      // the clone lives in a folder that only root may enter.
      const asRoot = process.getuid?.() === 0;
      const dropRead = ["--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"];
      for (const args of [["list"], ["validate"], ["run", "ci"]]) {
        const command = [process.execPath, BIN, ...args];
        const [file, ...argv] = asRoot ? ["setpriv", ...dropRead, ...command] : command;
        const r = spawnSync(file!, argv, { cwd: p.dir, encoding: "utf8", env: { PATH: process.env.PATH }, timeout: 30_000 });
        expect(r.error).toBeUndefined();
        expect(r.status, args.join(" ")).toBe(2);
        expect(r.stderr, args.join(" ")).toContain(`cannot read the workstreams folder ${path.join(p.dir, "workstreams")} (EACCES)`);
        expect(r.stderr).not.toContain("internal error");
      }
    } finally {
      fs.chmodSync(path.join(p.dir, "workstreams"), 0o755);
    }
  });

  it("GITHUB_STEP_SUMMARY pointing at a folder, --junit or --summary that cannot be written", () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    fs.mkdirSync(path.join(p.dir, "out"));
    fs.writeFileSync(path.join(p.dir, "afile"), "");
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [[], { GITHUB_STEP_SUMMARY: path.join(p.dir, "out") }, `GITHUB_STEP_SUMMARY ${path.join(p.dir, "out")} is a folder, not a file`],
      [["--junit", "out"], {}, `--junit ${path.join(p.dir, "out")} is a folder, not a file`],
      [["--junit", "afile/report.xml"], {}, `cannot be created: ${path.join(p.dir, "afile")} is a file, not a folder`],
      [["--summary", "afile/deep/s.md"], {}, `cannot be created: ${path.join(p.dir, "afile")} is a file, not a folder`],
    ];
    for (const [args, env, message] of cases) {
      const r = ws(p, ["run", "ci", ...args], env);
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(readRecord(p)).toEqual([]);
  });
});

describe("a folder ws may not read is exit 2 naming it, never an internal error", () => {
  /**
   * Runs ws in `dir` after locking it (mode 000). Root reads everything, so root runs ws without
   * the capabilities that let it (setpriv drops them from the bounding set): the same EACCES as
   * any other user, while node and ws stay readable wherever the clone is.
   */
  function inUnreadable(dir: string, args: string[]) {
    const node = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
    const drop = process.getuid?.() === 0 ? "setpriv --bounding-set=-dac_override,-dac_read_search " : "";
    const r = spawnSync("sh", ["-c", `chmod 000 . && exec ${drop}${node}`], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "true" } });
    fs.chmodSync(dir, 0o755);
    return r;
  }

  it("the project folder or one above it (EACCES on stat)", () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    for (const args of [["validate"], ["list"], ["run", "ci"], ["status"]]) {
      const r = inUnreadable(p.dir, args);
      expect(r.stderr, args.join(" ")).toContain(`cannot read ${p.dir} (EACCES)`);
      expect(r.stderr, args.join(" ")).not.toContain("internal error");
      expect(r.status, args.join(" ")).toBe(2);
    }
    expect(readRecord(p)).toEqual([]);
  });

  it("the current folder removed under the shell", () => {
    const p = makeProject([]);
    const gone = path.join(p.dir, "gone");
    fs.mkdirSync(gone);
    const r = spawnSync("sh", ["-c", `cd '${gone}' && rmdir '${gone}' && exec '${process.execPath}' '${BIN}' list`], { encoding: "utf8" });
    expect(r.stderr).toContain("cannot read the current folder (ENOENT)");
    expect(r.status).toBe(2);
  });
});
