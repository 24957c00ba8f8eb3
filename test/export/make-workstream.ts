import type { Workstream } from "../../src/workstream/model.js";
import { rawStep, workstreamOf, type StepFields } from "../helpers/workstream.js";

export type StepInput = StepFields;

/** A Workstream through the real normalizer; `extra` replaces whole normalized parts (e.g. execution). */
export function makeWorkstream(id: string, steps: StepInput[], extra: Partial<Omit<Workstream, "steps">> = {}): Workstream {
  return { ...workstreamOf({ id, steps: steps.map(rawStep) }, { schema: false }), ...extra };
}
