import type { DocPath, SourceFile, SourceLocation } from "../../src/diagnostics.js";
import type { Workstream } from "../../src/workstream/model.js";
import { rawStep, workstreamOf, type StepFields } from "../helpers/workstream.js";

export type StepInput = StepFields;
export interface GroupInput {
  id: string;
  steps: string[];
  execute?: "parallel" | "sequential";
  maxWorkers?: number;
}

/**
 * A Workstream through the real normalizer (the schema is not enforced: graph tests feed the graph
 * what only the schema would reject); steps are shell steps claiming no files unless told.
 */
export function makeWs(steps: StepInput[], options: { groups?: GroupInput[]; fileConflicts?: "error" | "serialize" } = {}): Workstream {
  return workstreamOf({
    execution: { isolation: "none", ...(options.fileConflicts ? { file_conflicts: options.fileConflicts } : {}) },
    steps: steps.map(rawStep),
    step_groups: options.groups?.map((g) => ({ id: g.id, steps: g.steps, execute: g.execute, max_workers: g.maxWorkers })),
  }, { schema: false });
}

/** Steps from `{ id: [deps] }` in key order. */
export function chain(deps: Record<string, string[]>): Workstream {
  return makeWs(Object.entries(deps).map(([id, dependsOn]) => ({ id, dependsOn })));
}

/**
 * A SourceFile that gives every document path its own line number, so tests can ask which path
 * a diagnostic points at (`pathOf`).
 */
export function fakeSource(path = "workstreams/ws-test.json"): SourceFile & { pathOf(location: SourceLocation | undefined): string | undefined } {
  const lines = new Map<string, number>();
  const byLine = new Map<number, string>();
  return {
    path,
    text: "",
    locate(docPath: DocPath): SourceLocation {
      const key = docPath.join(".");
      let line = lines.get(key);
      if (line === undefined) {
        line = lines.size + 1;
        lines.set(key, line);
        byLine.set(line, key);
      }
      return { line, col: 1, offset: 0, length: 1 };
    },
    pathOf(location) {
      return location === undefined ? undefined : byLine.get(location.line);
    },
  };
}
