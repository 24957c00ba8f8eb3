import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/temp-dirs.js";
import { writeFileAtomicSync } from "../../src/store/atomic-write.js";

const tempDir = tempDirs("ws-atomic-");

describe("writeFileAtomicSync", () => {
  it("writes a new file and replaces an old one whole, leaving no temporary file", () => {
    const dir = tempDir();
    const file = path.join(dir, "state.json");
    writeFileAtomicSync(file, "first\n");
    expect(fs.readFileSync(file, "utf8")).toBe("first\n");
    writeFileAtomicSync(file, "second\n", { fsync: false });
    expect(fs.readFileSync(file, "utf8")).toBe("second\n");
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
  });

  it("replaces the file by a rename: a reader holding the old one still reads the old one", () => {
    const dir = tempDir();
    const file = path.join(dir, "state.json");
    writeFileAtomicSync(file, "old\n");
    const before = fs.statSync(file).ino;
    writeFileAtomicSync(file, "new\n");
    expect(fs.statSync(file).ino).not.toBe(before);
  });

  it("throws, and leaves the old file and no temporary file, when the file cannot be replaced", () => {
    const dir = tempDir();
    // A folder where the file should be: the rename fails after the temporary file was written.
    const file = path.join(dir, "state.json");
    fs.mkdirSync(file);
    fs.writeFileSync(path.join(file, "inside"), "x");
    expect(() => writeFileAtomicSync(file, "new\n")).toThrow();
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
    expect(fs.readdirSync(file)).toEqual(["inside"]);
  });

  it("throws when the folder does not exist, creating nothing", () => {
    const dir = tempDir();
    expect(() => writeFileAtomicSync(path.join(dir, "missing", "state.json"), "x")).toThrow(/ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
