import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ownConfig, ownLaneGitDir } from "../../src/git/lane-git-dir.js";

/** Issue 31: ws owns a lane's git dir; what a step (or an interrupted run's step) planted goes before ws's git runs there. */

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const INIT = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n";

describe("a lane's config", () => {
  it("keeps what git init wrote and drops every setting that can run a program or point elsewhere", () => {
    const planted = [
      INIT,
      "\tfsmonitor = /tmp/evil.sh\n\thooksPath = /tmp/hooks\n\tworktree = /elsewhere\n\tsshCommand = evil\n",
      '[filter "lfs"]\n\tclean = evil %f\n\tsmudge = evil %f\n',
      "[alias]\n\tstatus = !evil\n",
      '[include]\n\tpath = /tmp/more.config\n[includeIf "gitdir:/"]\n\tpath = /tmp/more.config\n',
      "[diff]\n\texternal = evil\n[merge \"x\"]\n\tdriver = evil\n[core]\n\tbare = true\n\tFileMode = false\n",
    ].join("");
    expect(ownConfig(planted)).toBe(
      '[core]\n\trepositoryformatversion = 0\n\tfilemode = false\n\tbare = false\n\tlogallrefupdates = true\n[protocol "file"]\n\tallow = never\n',
    );
  });

  it("keeps the object format of a sha256 repository", () => {
    expect(ownConfig("[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectformat = sha256\n")).toContain("[extensions]\n\tobjectformat = sha256\n");
  });

  it("is the same text when owned twice (nothing to put back for a lane as ws left it)", () => {
    const once = ownConfig(INIT);
    expect(ownConfig(once)).toBe(once);
  });
});

describe("a lane's git dir put back", () => {
  it("loses hooks, info, refs other than the empty heads and tags, redirecting files, and names them", () => {
    const gitDir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-lane-git-"));
    made.push(gitDir);
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(gitDir, file)), { recursive: true });
      fs.writeFileSync(path.join(gitDir, file), text);
    };
    write("config", ownConfig(INIT) + "[core]\n\tfsmonitor = evil\n");
    write("hooks/pre-commit", "#!/bin/sh\nevil\n");
    write("info/attributes", "* filter=evil\n");
    write("refs/heads/main", "0".repeat(40) + "\n");
    write("refs/stash", "0".repeat(40) + "\n");
    write("packed-refs", "# pack-refs\n");
    write("commondir", "/home/user/project/.git\n");
    write("objects/info/alternates", "/somewhere/else\n");
    fs.mkdirSync(path.join(gitDir, "refs", "tags"), { recursive: true });

    const changed = ownLaneGitDir(gitDir, "/home/user/project/.git/objects");
    expect(changed.sort()).toEqual(["commondir", "config", "hooks", "info", "objects/info/alternates", "packed-refs", "refs/heads", "refs/stash"]);
    expect(fs.readFileSync(path.join(gitDir, "config"), "utf8")).toBe(ownConfig(INIT));
    expect(fs.readdirSync(gitDir).sort()).toEqual(["config", "objects", "refs"]);
    expect(fs.readdirSync(path.join(gitDir, "refs")).sort()).toEqual(["heads", "tags"]);
    expect(fs.readdirSync(path.join(gitDir, "refs", "heads"))).toEqual([]);
    expect(fs.readFileSync(path.join(gitDir, "objects", "info", "alternates"), "utf8")).toBe("/home/user/project/.git/objects\n");
    expect(ownLaneGitDir(gitDir, "/home/user/project/.git/objects")).toEqual([]);
  });

  it("holds a copy of the user's own ignores and attributes in info/, and nothing else there", () => {
    const gitDir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-lane-git-"));
    made.push(gitDir);
    fs.mkdirSync(path.join(gitDir, "info"));
    fs.writeFileSync(path.join(gitDir, "info", "exclude"), "planted\n");
    fs.writeFileSync(path.join(gitDir, "info", "sparse-checkout"), "/x\n");
    const user = new Map([["exclude", Buffer.from(".worktrees/\nnode_modules/\n")]]);
    expect(ownLaneGitDir(gitDir, "/u/.git/objects", user)).toContain("info");
    expect(fs.readdirSync(path.join(gitDir, "info"))).toEqual(["exclude"]);
    expect(fs.readFileSync(path.join(gitDir, "info", "exclude"), "utf8")).toBe(".worktrees/\nnode_modules/\n");
    expect(ownLaneGitDir(gitDir, "/u/.git/objects", user)).toEqual([]);
  });
});
