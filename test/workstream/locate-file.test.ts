import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../src/errors.js";
import { idProblem, listWorkstreamFiles, locateWorkstream } from "../../src/workstream/locate-file.js";
import { nearest } from "../../src/workstream/suggest.js";
import { tempDir } from "./helpers.js";

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

function workstreamsDir(names: string[]): string {
  const dir = tempDir();
  for (const name of names) fs.writeFileSync(path.join(dir, name), "{}");
  fs.mkdirSync(path.join(dir, "not-a-file.json"));
  fs.writeFileSync(path.join(dir, "notes.txt"), "");
  return dir;
}

describe("locateWorkstream", () => {
  it.each(["../x", "a/b", "a\\b", "a b", "..", "x..y", "", "ws;rm", "-rf", ".hidden"])("refuses the id %j before touching the disk", (id) => {
    const error = userError(() => locateWorkstream(id, { dir: "/nonexistent/never/read" }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/invalid workstream id/);
    expect(idProblem(id)).toBeDefined();
  });

  it("finds .json, then .yaml, then .yml", () => {
    const dir = workstreamsDir(["a.json", "a.yaml", "b.yml", "c.yaml"]);
    expect(locateWorkstream("a", { dir })).toBe(path.join(dir, "a.json"));
    expect(locateWorkstream("b", { dir })).toBe(path.join(dir, "b.yml"));
    expect(locateWorkstream("c", { dir })).toBe(path.join(dir, "c.yaml"));
  });

  it("lists the available ids and suggests the nearest for an unknown one", () => {
    const dir = workstreamsDir(["ws-example-02-parallel-execution.json", "ws-deploy-pipeline.json"]);
    const prefix = userError(() => locateWorkstream("ws-example-02", { dir }));
    expect(prefix.message).toMatch(/unknown workstream "ws-example-02"/);
    expect(prefix.options.fix).toMatch(/^did you mean ws-example-02-parallel-execution\?/);
    expect(prefix.options.fix).toContain("ws-deploy-pipeline");
    const typo = userError(() => locateWorkstream("ws-deploy-pipeline", { dir: path.join(dir, "nope") }));
    expect(typo.options.fix).toMatch(/ws init/);
    expect(userError(() => locateWorkstream("ws-deplyo-pipeline", { dir })).options.fix).toMatch(/did you mean ws-deploy-pipeline\?/);
  });

  it("lists only workstream files, sorted, as absolute paths", () => {
    const dir = workstreamsDir(["b.yaml", "a.json", "c.yml"]);
    expect(listWorkstreamFiles(dir)).toEqual(["a.json", "b.yaml", "c.yml"].map((n) => path.join(dir, n)));
    expect(listWorkstreamFiles(path.join(dir, "missing"))).toEqual([]);
  });
});

describe("nearest", () => {
  it("suggests close words and nothing for unrelated ones", () => {
    expect(nearest("depend_on", ["depends_on", "id", "run"])).toBe("depends_on");
    expect(nearest("stpes", ["steps", "step_groups"])).toBe("steps");
    expect(nearest("xyz", ["depends_on", "id", "run"])).toBeUndefined();
  });
});
