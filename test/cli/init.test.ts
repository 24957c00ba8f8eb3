import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempProjects, tempProject, ws as runWs } from "../helpers/cli.js";

const SCHEMA = fileURLToPath(new URL("../../schemas/workstream.schema.json", import.meta.url));

function ws(args: string[], cwd: string) {
  return runWs(args, { cwd, env: { PATH: process.env.PATH, NO_COLOR: "1" } });
}

const tmp = () => tempProject("ws-init-");
afterAll(() => removeTempProjects());

describe("ws init (built binary)", () => {
  it("writes a commented starter that validates, and says what to do next", () => {
    const dir = tmp();
    const r = ws(["init", "ws-hello"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`created ${path.join("workstreams", "ws-hello.json")}`);
    // What to do next names the workstream just written, never a demo id.
    for (const next of ["ws validate ws-hello", "ws graph ws-hello", "ws run ws-hello --dry-run", "ws run ws-hello "]) expect(r.stdout).toContain(next);
    expect(r.stdout).toContain("edit workstreams/ws-hello.json first");
    const file = path.join(dir, "workstreams", "ws-hello.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { $schema: string; $comment: string; id: string; steps: Array<Record<string, unknown>> };
    expect(doc.id).toBe("ws-hello");
    // Not a path into wherever this ws is installed (a global prefix, npx's cache): a copy
    // beside the workstream, which every clone resolves offline once committed.
    expect(doc.$schema).toBe("schema/workstream.schema.json");
    expect(fs.readFileSync(path.resolve(path.dirname(file), doc.$schema), "utf8")).toBe(fs.readFileSync(SCHEMA, "utf8"));
    expect(r.stdout).toContain(`wrote ${path.join("workstreams", "schema", "workstream.schema.json")}`);
    expect(doc.$comment.length).toBeGreaterThan(0);
    expect(doc.steps.some((s) => s.tool === "shell" && Array.isArray(s.acceptance_tests))).toBe(true);
    // It says what a shell step without file_scope may change: nothing (issue 33.3).
    expect(doc.steps.find((s) => s.tool === "shell")?.$comment).toMatch(/Without file_scope a shell step claims no files.*scope_violation/);
    expect(doc.steps.some((s) => s.tool !== "shell" && Array.isArray(s.tasks) && Array.isArray(s.file_scope))).toBe(true);
    expect(doc.steps.some((s) => Array.isArray(s.depends_on) && s.depends_on.length > 0)).toBe(true);
    const check = ws(["validate"], dir);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("uses a default id, refuses to overwrite without --force, and overwrites with it", () => {
    const dir = tmp();
    expect(ws(["init"], dir).code).toBe(0);
    const file = path.join(dir, "workstreams", "ws-my-first-workstream.json");
    fs.writeFileSync(file, "{}");
    const again = ws(["init"], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(again.stderr).toContain("--force");
    expect(fs.readFileSync(file, "utf8")).toBe("{}");
    expect(ws(["init", "--force"], dir).code).toBe(0);
    expect(ws(["validate", "--ws-id", "ws-my-first-workstream"], dir).code).toBe(0);
  });

  it("refuses a bad id before writing anything", () => {
    const dir = tmp();
    const r = ws(["init", "../escape"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid workstream id");
    expect(fs.existsSync(path.join(dir, "workstreams"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "escape.json"))).toBe(false);
    const spaced = ws(["init", "My Deploy"], dir);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain("fix: ws init my-deploy");
    expect(spaced.stderr).not.toContain("ws-deploy-pipeline");
  });

  it("honours --dir", () => {
    const dir = tmp();
    expect(ws(["--dir", "flows", "init", "ws-a"], dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, "flows", "ws-a.json"))).toBe(true);
    expect(ws(["--dir", "flows", "validate", "--ws-id", "ws-a"], dir).code).toBe(0);
  });

  it("refreshes a stale schema copy (ws upgraded), and a moved clone still resolves it", () => {
    const dir = tmp();
    expect(ws(["init", "ws-a"], dir).code).toBe(0);
    const copy = path.join(dir, "workstreams", "schema", "workstream.schema.json");
    fs.writeFileSync(copy, "{}");
    const again = ws(["init", "ws-b"], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("wrote ");
    expect(fs.readFileSync(copy, "utf8")).toBe(fs.readFileSync(SCHEMA, "utf8"));
    expect(ws(["init", "ws-c"], dir).stdout).not.toContain("wrote ");
    const moved = tmp();
    fs.cpSync(path.join(dir, "workstreams"), path.join(moved, "workstreams"), { recursive: true });
    const doc = JSON.parse(fs.readFileSync(path.join(moved, "workstreams", "ws-a.json"), "utf8")) as { $schema: string };
    expect(fs.existsSync(path.resolve(moved, "workstreams", doc.$schema))).toBe(true);
    const check = ws(["validate"], moved);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("names the schema through node_modules/<package>, not pnpm's store path the binary runs from", () => {
    const dir = tmp();
    // pnpm's layout: node_modules/ws-orchestrator links into node_modules/.pnpm/<name>@<version>/...
    const store = path.join(dir, "node_modules", ".pnpm", "ws-orchestrator@0.1.0", "node_modules");
    fs.mkdirSync(store, { recursive: true });
    fs.symlinkSync(path.dirname(path.dirname(SCHEMA)), path.join(store, "ws-orchestrator"));
    fs.symlinkSync(path.join(".pnpm", "ws-orchestrator@0.1.0", "node_modules", "ws-orchestrator"), path.join(dir, "node_modules", "ws-orchestrator"));
    expect(ws(["init", "ws-linked"], dir).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, "workstreams", "ws-linked.json"), "utf8")) as { $schema: string };
    expect(doc.$schema).toBe("../node_modules/ws-orchestrator/schemas/workstream.schema.json");
    expect(fs.realpathSync(path.resolve(dir, "workstreams", doc.$schema))).toBe(fs.realpathSync(SCHEMA));
    expect(fs.existsSync(path.join(dir, "workstreams", "schema"))).toBe(false);
  });
});
