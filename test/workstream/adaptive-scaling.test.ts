import os from "node:os";
import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

/** max_workers "auto" and the seeds' adaptive_scaling, which files written for them still use. */

const base = { id: "w", steps: [{ id: "a", tool: "shell", run: "true" }] };

describe("max_workers auto and adaptive_scaling", () => {
  it('"auto" is adaptive: the CPUs, to be lowered under load', async () => {
    const r = await loadText("w.json", { ...base, execution: { max_workers: "auto" } });
    expect(r.ok && r.workstream.execution).toMatchObject({ maxWorkers: os.availableParallelism(), adaptive: true });
    const fixed = await loadText("w.json", { ...base, execution: { max_workers: 2 } });
    expect(fixed.ok && fixed.workstream.execution.adaptive).toBe(false);
  });

  it("adaptive_scaling: true is accepted as max_workers auto, with a deprecation warning that points at the key and gives the fix", async () => {
    const r = await loadText("w.json", { ...base, execution: { adaptive_scaling: true } });
    expect(errors(r)).toEqual([]);
    expect(r.ok && r.workstream.execution).toMatchObject({ maxWorkers: os.availableParallelism(), adaptive: true });
    const warning = r.diagnostics.find((d) => d.code === "deprecated");
    expect(warning).toMatchObject({ severity: "warning", fix: 'replace it with "max_workers": "auto"', location: { line: 11 } });
    expect(warning?.message).toMatch(/adaptive_scaling is deprecated: true means max_workers "auto"/);
  });

  it("beside max_workers it is ignored, and the warning says so", async () => {
    const r = await loadText("w.json", { ...base, execution: { max_workers: 2, adaptive_scaling: true } });
    expect(r.ok && r.workstream.execution).toMatchObject({ maxWorkers: 2, adaptive: false });
    expect(r.diagnostics.find((d) => d.code === "deprecated")?.message).toMatch(/ignored here: max_workers is set/);
  });

  it("anything but a boolean is still an error", async () => {
    const r = await loadText("w.json", { ...base, execution: { adaptive_scaling: "yes" } });
    expect(errors(r).map((d) => d.message).join("\n")).toMatch(/adaptive_scaling/);
  });

  it("parallel: false wins over auto", async () => {
    const r = await loadText("w.json", { ...base, execution: { parallel: false, max_workers: "auto" } });
    expect(r.ok && r.workstream.execution).toMatchObject({ maxWorkers: 1, adaptive: false });
  });
});
