import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cloneProbe } from "../../src/git/lane-seed.js";
import { Lanes, pinsOf } from "../../src/git/lanes.js";
import { git, makeRepo, read, removeRepos, status, writeFiles } from "./make-repo.js";

const realProbe = cloneProbe.probe;
const homes: string[] = [];

afterEach(() => {
  cloneProbe.probe = realProbe;
  removeRepos();
  for (const dir of homes.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** What a `npm ci` leaves: a node_modules made from the lockfile, and one more line in `count`. */
function installer(project: string): string {
  return `echo ran >> ${project}/count; rm -rf node_modules build; mkdir -p node_modules/dep/.bin && cat package-lock.json > node_modules/dep/index.js && ln -s ../index.js node_modules/dep/.bin/dep && mkdir -p build && echo cache > build/cache.txt`;
}

function project(): string {
  return makeRepo({ ".gitignore": "node_modules\nbuild/\n.venv\n", "package-lock.json": '{"v":1}\n', "README.md": "# p\n" });
}

function pool(root: string, home: string, options: { setup?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Lanes {
  const settings = { copy: [], link: [], setup: options.setup ?? installer(root) };
  const env = options.env ?? process.env;
  return new Lanes({ gitRoot: root, pins: pinsOf("ws/t"), projectDir: root, home, stateDir: path.join(root, ".worktrees", "t"), settings, env, signal: options.signal });
}

function lanesHome(): string {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-seed-home-")));
  homes.push(home);
  return home;
}

const runs = (root: string) => read(root, "count").split("\n").filter(Boolean).length;
const record = (root: string, n: number) => JSON.parse(read(root, `.worktrees/t/lanes/lane-${n}/setup.json`)) as { how: string; from?: string; inputs: string };
const hasRecord = (root: string, n: number) => fs.existsSync(path.join(root, `.worktrees/t/lanes/lane-${n}/setup.json`));

/** A `cp` first on PATH that does `script` (sh, with the real cp's arguments in "$@"). */
function fakeCp(script: string): () => void {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ws-fake-cp-"));
  homes.push(bin);
  fs.writeFileSync(path.join(bin, "cp"), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ""}`;
  return () => (process.env.PATH = saved);
}

describe("a new lane is seeded from a set-up lane", () => {
  it("gets the ignored files by a copy, without running the setup again, and nothing git tracks nor the .git file", async () => {
    const root = project();
    const home = lanesHome();
    const lanes = pool(root, home);
    const base = git(root, "rev-parse", "HEAD");
    const one = await lanes.acquire(base);
    expect(runs(root)).toBe(1);
    // What a step in lane 1 does meanwhile: tracked and untracked changes are its own, never copied.
    writeFiles(one.root, { "README.md": "changed by the step\n", "notes.txt": "untracked\n" });
    const two = await lanes.acquire(base);
    expect(two.created).toBe(true);
    expect(runs(root)).toBe(1);
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
    expect(fs.readlinkSync(path.join(two.root, "node_modules/dep/.bin/dep"))).toBe("../index.js");
    expect(read(two.root, "build/cache.txt")).toBe("cache\n");
    expect(read(two.root, ".git")).toBe(`gitdir: ${two.root}.git\n`);
    expect(read(two.root, "README.md")).toBe("# p\n");
    expect(status(two.root)).toEqual([]);
    expect(record(root, 2)).toMatchObject({ from: one.root, how: expect.stringMatching(/^(reflink|copy)$/) });
    expect(read(root, ".worktrees/t/lanes/lane-2/setup.log")).toMatch(/copied (node_modules, build|build, node_modules) from .*lane-1/);
    expect(lanes.notes.join("\n")).toMatch(/new lanes get a set-up lane's ignored files .* instead of running/);
  });

  it("runs the setup again only when a lockfile (or the command) changed, and then seeds from the lane set up anew", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const first = pool(root, home);
    await first.acquire(base);
    await first.acquire(base);
    expect(runs(root)).toBe(1);

    const again = pool(root, home);
    await again.acquire(base);
    await again.acquire(base);
    expect(runs(root)).toBe(1);

    writeFiles(root, { "package-lock.json": '{"v":2}\n' });
    git(root, "commit", "-qam", "bump");
    const bumped = git(root, "rev-parse", "HEAD");
    const third = pool(root, home);
    const one = await third.acquire(bumped);
    expect(runs(root)).toBe(2);
    const two = await third.acquire(bumped);
    expect(runs(root)).toBe(2);
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":2}\n');
    expect(record(root, 2).from).toBe(one.root);
    expect(record(root, 2).inputs).toBe(record(root, 1).inputs);
  });

  it("seeds from a lane whose setup wrote the lockfile the project does not commit, and does not set up again next run", async () => {
    // An npm library that ignores its lockfile (kleur): `npm install` writes package-lock.json in the lane.
    const root = makeRepo({ ".gitignore": "node_modules\n*-lock.*\n", "package.json": '{"name":"p"}\n' });
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const setup = `echo ran >> ${root}/count; mkdir -p node_modules/dep && echo '{"made":1}' > package-lock.json`;
    const first = pool(root, home, { setup });
    const one = await first.acquire(base);
    const two = await first.acquire(base);
    expect(runs(root)).toBe(1);
    expect(record(root, 2).from).toBe(one.root);
    expect(read(two.root, "package-lock.json")).toBe('{"made":1}\n');
    await first.release(one);
    await first.release(two);
    await first.settled();
    const next = pool(root, home, { setup });
    await Promise.all([next.acquire(base), next.acquire(base), next.acquire(base)]);
    expect(runs(root)).toBe(1);
  });

  it("never copies from a lane whose lockfile changed since its setup (a step installed something else there)", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    const one = await lanes.acquire(base);
    writeFiles(one.root, { "package-lock.json": '{"v":"the step\'s"}\n' });
    await lanes.acquire(base);
    expect(runs(root)).toBe(2);
  });

  it("leaves out a folder under which git tracks a file in the new lane (a lane at another base)", async () => {
    const root = project();
    const home = lanesHome();
    const lanes = pool(root, home);
    const one = await lanes.acquire(git(root, "rev-parse", "HEAD"));
    writeFiles(root, { "build/keep.txt": "tracked\n" });
    git(root, "add", "-f", "build/keep.txt");
    git(root, "commit", "-qm", "track a file in build/");
    const two = await lanes.acquire(git(root, "rev-parse", "HEAD"));
    expect(runs(root)).toBe(1);
    expect(read(two.root, "build/keep.txt")).toBe("tracked\n");
    expect(fs.existsSync(path.join(two.root, "build/cache.txt"))).toBe(false);
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
    expect(fs.existsSync(path.join(one.root, "build/keep.txt"))).toBe(false);
    expect(read(root, ".worktrees/t/lanes/lane-2/setup.log")).toMatch(/left out \(tracked in this lane, or its folder is not here\): build/);
  });

  it("sets up once when two new lanes need the same inputs at once: the other waits and copies", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    const [one, two] = await Promise.all([lanes.acquire(base), lanes.acquire(base)]);
    expect(runs(root)).toBe(1);
    expect(read(one.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
  });

  it("makes the run's other first lanes while the first one sets up, and hands the first over only once they are seeded", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    let ahead: Promise<void> | undefined;
    const one = await lanes.acquire(base, { onSetup: () => (ahead = lanes.ahead(base, 2)) });
    expect(ahead).toBeDefined();
    // Seeded before the first lane was handed over: records there, the setup run once.
    expect([2, 3].map((n) => record(root, n))).toEqual([expect.objectContaining({ from: one.workdir }), expect.objectContaining({ from: one.workdir })]);
    expect(runs(root)).toBe(1);
    await lanes.release(one);
    const taken = await Promise.all([lanes.acquire(base), lanes.acquire(base), lanes.acquire(base)]);
    expect(taken.map((lane) => lane.n).sort()).toEqual([1, 2, 3]);
    expect(taken.map((lane) => read(lane.root, "node_modules/dep/index.js"))).toEqual(['{"v":1}\n', '{"v":1}\n', '{"v":1}\n']);
    expect(runs(root)).toBe(1);
  });

  it("a lane made ahead never runs a setup that failed in the first lane: the run stops after one try", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home, { setup: `echo ran >> ${root}/count; exit 3` });
    let ahead: Promise<void> | undefined;
    await expect(lanes.acquire(base, { onSetup: () => (ahead = lanes.ahead(base, 2)) })).rejects.toThrow(/failed \(exit 3\)/);
    await ahead;
    expect(runs(root)).toBe(1);
    expect([2, 3].map((n) => hasRecord(root, n))).toEqual([false, false]);
  });

  it("with WS_LANE_SEED=setup runs the setup in every lane", async () => {
    const root = project();
    const lanes = pool(root, lanesHome(), { env: { ...process.env, WS_LANE_SEED: "setup" } });
    const base = git(root, "rev-parse", "HEAD");
    await lanes.acquire(base);
    await lanes.acquire(base);
    expect(runs(root)).toBe(2);
  });
});

describe("where no clone can be had", () => {
  it("copies plainly and says so once, naming the file system's missing clone", async () => {
    cloneProbe.probe = () => Promise.resolve(false);
    const root = project();
    const home = lanesHome();
    const lanes = pool(root, home);
    const base = git(root, "rev-parse", "HEAD");
    await lanes.acquire(base);
    await lanes.acquire(base);
    await lanes.acquire(base);
    expect(record(root, 2).how).toBe("copy");
    expect(record(root, 3).how).toBe("copy");
    const said = lanes.notes.filter((n) => n.includes("new lanes get"));
    expect(said).toEqual([`worktree.setup: new lanes get a set-up lane's ignored files (build, node_modules) by a plain copy (the file system of ${home} has no copy-on-write clone, cp --reflink) instead of running "${installer(root)}" again; it runs again in a lane when a lockfile or the command changes`]);
  });

  it("runs the setup in later lanes once a plain copy was measured clearly slower than the setup", async () => {
    cloneProbe.probe = () => Promise.resolve(false);
    const root = project();
    const lanes = pool(root, lanesHome());
    const base = git(root, "rev-parse", "HEAD");
    await lanes.acquire(base);
    const restore = fakeCp(`PATH=${process.env.PATH}; sleep 1.5; cp "$@"`);
    try {
      await lanes.acquire(base);
    } finally {
      restore();
    }
    expect(record(root, 2).how).toBe("copy");
    await lanes.acquire(base);
    expect(record(root, 3).how).toBe("setup");
    expect(runs(root)).toBe(2);
    expect(lanes.notes.join("\n")).toMatch(/a plain copy of a set-up lane's ignored files took 1\.\d+s, longer than .*; new lanes run the setup instead/);
  });

  it("falls back to a plain copy when the clone the probe promised is refused", async () => {
    cloneProbe.probe = () => Promise.resolve(true);
    const root = project();
    const home = lanesHome();
    const lanes = pool(root, home);
    const base = git(root, "rev-parse", "HEAD");
    await lanes.acquire(base);
    const two = await lanes.acquire(base);
    const clones = (() => {
      fs.writeFileSync(path.join(home, "a"), "a");
      try {
        execFileSync("cp", ["--reflink=always", path.join(home, "a"), path.join(home, "b")], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();
    expect(record(root, 2).how).toBe(clones ? "reflink" : "copy");
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
  });
});

describe("a copy that is cut short or disturbed", () => {
  it("leaves no record when the run is cancelled mid-copy, and the next run copies again", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    await pool(root, home).acquire(base);
    const controller = new AbortController();
    const lanes = pool(root, home, { signal: controller.signal });
    await lanes.acquire(base); // lane 1, set up already
    const marker = path.join(home, "copying");
    const restore = fakeCp(`touch ${marker}; exec sleep 30`);
    try {
      const cut = lanes.acquire(base).catch((error: unknown) => error);
      while (!fs.existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      expect(await cut).toBeInstanceOf(Error);
    } finally {
      restore();
    }
    expect(hasRecord(root, 2)).toBe(false);
    const later = pool(root, home);
    await later.acquire(base);
    const two = await later.acquire(base);
    expect(runs(root)).toBe(1);
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
    expect(hasRecord(root, 2)).toBe(true);
  });

  it("after a kill -9 mid-copy (half the files, no record) copies again rather than taking the lane as set up", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    await lanes.acquire(base);
    const two = await lanes.acquire(base);
    // What a kill -9 between the copy and the record leaves: a lane with part of the files and no record.
    fs.rmSync(path.join(root, ".worktrees/t/lanes/lane-2/setup.json"));
    fs.rmSync(path.join(two.root, "node_modules/dep/index.js"));
    const later = pool(root, home);
    await later.acquire(base);
    await later.acquire(base);
    expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":1}\n');
    expect(runs(root)).toBe(1);
  });

  it("copies again what the source's step changed during the copy", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    const one = await lanes.acquire(base);
    const once = path.join(home, "once");
    // The step in lane 1 writes a cache file while the first copy runs, then stops writing.
    const restore = fakeCp(`PATH=${process.env.PATH}; cp "$@" || exit 1; [ -e ${once} ] || { touch ${once}; sleep 0.05; echo newer > ${one.root}/build/cache.txt; }`);
    try {
      const two = await lanes.acquire(base);
      expect(read(two.root, "build/cache.txt")).toBe("newer\n");
      expect(runs(root)).toBe(1);
    } finally {
      restore();
    }
  });

  it("copies again a folder the source's step renamed into place during the copy, though its files keep their old times", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    const one = await lanes.acquire(base);
    // Made before the copy: same names, same size, same times as node_modules/dep, other bytes.
    const staged = path.join(one.root, "node_modules/.staged");
    fs.cpSync(path.join(one.root, "node_modules/dep"), staged, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    fs.writeFileSync(path.join(staged, "index.js"), '{"v":9}\n');
    const old = fs.statSync(path.join(one.root, "node_modules/dep/index.js"));
    fs.utimesSync(path.join(staged, "index.js"), old.atime, old.mtime);
    const once = path.join(home, "once");
    await new Promise((resolve) => setTimeout(resolve, 80)); // the staged files well before the copy
    const dep = path.join(one.root, "node_modules/dep");
    const restore = fakeCp(`PATH=${process.env.PATH}; cp "$@" || exit 1; [ -e ${once} ] || { touch ${once}; rm -r ${dep}; mv ${staged} ${dep}; }`);
    try {
      const two = await lanes.acquire(base);
      expect(read(two.root, "node_modules/dep/index.js")).toBe('{"v":9}\n');
      expect(fs.existsSync(path.join(two.root, "node_modules/.staged"))).toBe(false);
      expect(runs(root)).toBe(1);
    } finally {
      restore();
    }
  });

  it("runs the setup when the source keeps changing while it is copied", async () => {
    const root = project();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const lanes = pool(root, home);
    const one = await lanes.acquire(base);
    const restore = fakeCp(`PATH=${process.env.PATH}; cp "$@" || exit 1; sleep 0.02; date +%s%N >> ${one.root}/build/cache.txt`);
    try {
      await lanes.acquire(base);
    } finally {
      restore();
    }
    expect(runs(root)).toBe(2);
    expect(lanes.notes.join("\n")).toMatch(/lane-1's ignored files kept changing while they were copied .*lane-2 ran/);
  });
});

describe("a Python virtual environment", () => {
  it("gets the new lane's paths in its scripts, activate and .pth files", async () => {
    const root = project();
    const home = lanesHome();
    const setup = `echo ran >> ${root}/count; mkdir -p .venv/bin .venv/lib/python3.12/site-packages && echo "home = /usr/bin" > .venv/pyvenv.cfg && printf '#!%s/.venv/bin/python\\n' "$PWD" > .venv/bin/pytest && chmod +x .venv/bin/pytest && echo "VIRTUAL_ENV='$PWD/.venv'" > .venv/bin/activate && echo "$PWD/src" > .venv/lib/python3.12/site-packages/_p.pth`;
    const lanes = pool(root, home, { setup });
    const base = git(root, "rev-parse", "HEAD");
    const one = await lanes.acquire(base);
    const two = await lanes.acquire(base);
    expect(runs(root)).toBe(1);
    expect(read(one.root, ".venv/bin/pytest")).toBe(`#!${one.root}/.venv/bin/python\n`);
    expect(read(two.root, ".venv/bin/pytest")).toBe(`#!${two.root}/.venv/bin/python\n`);
    expect(fs.statSync(path.join(two.root, ".venv/bin/pytest")).mode & 0o111).not.toBe(0);
    expect(read(two.root, ".venv/bin/activate")).toBe(`VIRTUAL_ENV='${two.root}/.venv'\n`);
    expect(read(two.root, ".venv/lib/python3.12/site-packages/_p.pth")).toBe(`${two.root}/src\n`);
  });
});

describe("what worktree.setup makes that the project does not ignore", () => {
  // pallets/itsdangerous ignores no .venv: `python3 -m venv .venv` (before Python 3.13, which
  // writes a .gitignore into it) leaves it untracked in the lane.
  const venvSetup = (project: string) => `echo ran >> ${project}/count; mkdir -p .venv/bin && echo '#!/bin/sh' > .venv/bin/python && chmod +x .venv/bin/python`;
  const repo = () => makeRepo({ ".gitignore": "dist/\n", "README.md": "# p\n", "requirements.txt": "pytest\n" });

  /** A repository whose lanes ran the venv setup once, in a run that has ended. */
  async function afterOneRun() {
    const root = repo();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const first = pool(root, home, { setup: venvSetup(root) });
    await first.release(await first.acquire(base));
    await first.settled();
    return { root, home, base };
  }

  it("is ignored in the lanes: it survives the lane's reset and is copied to new lanes, and the checkout's git dir is untouched", async () => {
    const root = repo();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const userExclude = read(root, ".git/info/exclude");
    const lanes = pool(root, home, { setup: venvSetup(root) });
    const one = await lanes.acquire(base);
    expect(runs(root)).toBe(1);
    expect(status(one.root)).toEqual([]);
    expect(lanes.notes.join("\n")).toMatch(/worktree.setup made \.venv, which your \.gitignore does not ignore: it is ignored in the lanes/);
    // Given back and taken again: not "uncommitted work an interrupted run left", not cleaned away.
    await lanes.release(one);
    const again = await lanes.acquire(base);
    expect(again.n).toBe(1);
    expect(fs.existsSync(path.join(again.root, ".venv/bin/python"))).toBe(true);
    expect(fs.existsSync(path.join(root, ".worktrees/t/leftovers"))).toBe(false);
    // A second lane gets it by a copy, ignored there too.
    const two = await lanes.acquire(base);
    expect(runs(root)).toBe(1);
    expect(fs.existsSync(path.join(two.root, ".venv/bin/python"))).toBe(true);
    expect(status(two.root)).toEqual([]);
    expect(read(root, ".git/info/exclude")).toBe(userExclude);
    expect(fs.existsSync(path.join(root, ".venv"))).toBe(false);
  });

  it("is still ignored in the next run's lanes, and a lane that never ran the setup gets it by a copy", async () => {
    const { root, home, base } = await afterOneRun();
    const next = pool(root, home, { setup: venvSetup(root) });
    const [one, two] = await Promise.all([next.acquire(base), next.acquire(base)]);
    expect(runs(root)).toBe(1);
    for (const lane of [one, two]) {
      expect(fs.existsSync(path.join(lane.root, ".venv/bin/python"))).toBe(true);
      expect(status(lane.root)).toEqual([]);
    }
  });

  it("stays ignored when the command changes, like the ignored files a setup makes: no leftovers, and what the new one makes is added", async () => {
    const { root, home, base } = await afterOneRun();
    const other = pool(root, home, { setup: `echo ran >> ${root}/count; mkdir -p env && touch env/python` });
    const lane = await other.acquire(base);
    expect(runs(root)).toBe(2);
    expect(other.notes.join("\n")).toMatch(/worktree.setup made \.venv, env, which/);
    expect(fs.existsSync(path.join(lane.root, ".venv/bin/python"))).toBe(true);
    expect(fs.existsSync(path.join(root, ".worktrees/t/leftovers"))).toBe(false);
    expect(read(lane.gitDir, "info/exclude")).toMatch(/# made by worktree.setup, which your .gitignore does not ignore\n\/\.venv\n\/env\n$/);
    expect(status(lane.root)).toEqual([]);
  });

  it("counts what a failed setup made: the next run sets up over it instead of saving it as a step's leftovers", async () => {
    // itsdangerous: pip failed after `python3 -m venv .venv`, and the fixed command ran next.
    const root = repo();
    const home = lanesHome();
    const base = git(root, "rev-parse", "HEAD");
    const failing = pool(root, home, { setup: `${venvSetup(root)}; exit 1` });
    await expect(failing.acquire(base)).rejects.toThrow(/worktree.setup .* failed \(exit 1\)/);
    await failing.settled();
    const fixed = pool(root, home, { setup: `${venvSetup(root)} && echo fixed > .venv/ok` });
    const lane = await fixed.acquire(base);
    expect(runs(root)).toBe(2);
    expect(read(lane.root, ".venv/ok")).toBe("fixed\n");
    // The failed run ended before its note; the run that set up says it.
    expect(fixed.notes.join("\n")).toMatch(/worktree.setup made \.venv, which your \.gitignore does not ignore/);
    expect(fs.existsSync(path.join(root, ".worktrees/t/leftovers"))).toBe(false);
    expect(status(lane.root)).toEqual([]);
  });
});
