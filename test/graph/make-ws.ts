import type { DocPath, SourceFile, SourceLocation } from "../../src/diagnostics.js";
import { DEFAULTS, type Step, type StepGroup, type Workstream } from "../../src/workstream/model.js";

export type StepInput = Partial<Omit<Step, "id" | "index">> & { id: string };
export type GroupInput = Partial<StepGroup> & { id: string; steps: string[] };

/** A Workstream with model defaults; steps are shell steps claiming no files unless told. */
export function makeWs(
  steps: StepInput[],
  options: { groups?: GroupInput[]; fileConflicts?: "error" | "serialize" } = {},
): Workstream {
  return {
    id: "ws-test",
    name: "test",
    description: "",
    file: "/project/workstreams/ws-test.json",
    hash: "0",
    execution: {
      parallel: true,
      maxWorkers: DEFAULTS.maxWorkers,
      timeoutPerStep: DEFAULTS.timeoutPerStep,
      rateLimitDelay: 0,
      onFailure: "continue",
      fileConflicts: options.fileConflicts ?? "error",
      isolation: "none",
    },
    defaults: { tool: "shell", model: undefined, retries: 0 },
    circuitBreaker: { failureThreshold: 3, cooldown: 60 },
    tools: {},
    steps: steps.map((input, index) => ({
      description: "",
      tool: "shell",
      tasks: [],
      run: "true",
      fileScope: [],
      hasFileScope: input.fileScope !== undefined,
      readOnly: [],
      dependsOn: [],
      timeout: 0,
      retries: 0,
      acceptanceTests: [],
      when: undefined,
      env: {},
      model: undefined,
      ...input,
      index,
    })),
    stepGroups: (options.groups ?? []).map((group) => ({ execute: "parallel", maxWorkers: undefined, ...group })),
  };
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
