import type { Step, Workstream } from "../../src/workstream/model.js";

export type StepInput = Partial<Step> & { id: string };

/** A normalized Workstream built by hand, as the loader would produce it. */
export function makeWorkstream(
  id: string,
  steps: StepInput[],
  extra: Partial<Omit<Workstream, "steps">> = {},
): Workstream {
  return {
    id,
    name: id,
    description: "",
    file: `/tmp/${id}.json`,
    hash: "0".repeat(64),
    execution: {
      parallel: true,
      maxWorkers: 3,
      timeoutPerStep: 300,
      rateLimitDelay: 0,
      onFailure: "continue",
      fileConflicts: "error",
      isolation: undefined,
    },
    defaults: { tool: "shell", model: undefined, retries: 0 },
    circuitBreaker: { failureThreshold: 3, cooldown: 60 },
    tools: {},
    stepGroups: [],
    ...extra,
    steps: steps.map((s, index) => ({
      index,
      description: "",
      tool: "shell",
      tasks: [],
      run: "true",
      fileScope: [],
      hasFileScope: false,
      readOnly: [],
      dependsOn: [],
      timeout: 300,
      retries: 0,
      acceptanceTests: [],
      when: undefined,
      env: {},
      model: undefined,
      ...s,
    })),
  };
}
