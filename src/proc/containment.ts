import { MARK_VARIABLE } from "./attempt-mark.js";
import { sandboxLaunch, type SandboxOptions } from "./sandbox.js";

/** What to exec: the whole environment, not additions to ws's own. */
export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** What surrounds one attempt's process; both spawn paths (launch.ts) apply it through `containLaunch`. */
export interface Containment {
  /** The attempt's cookie (see attempt-mark.ts): set in the environment, swept when the process ends. */
  mark?: string | undefined;
  /** Variables removed from the inherited environment (secrets the step was not given). */
  withhold?: readonly string[] | undefined;
  sandbox?: SandboxOptions | undefined;
}

/** Pure: withhold, then mark, then wrap in the sandbox. */
export function containLaunch(launch: Launch, containment: Containment | undefined): Launch {
  if (!containment) return launch;
  const env = { ...launch.env };
  for (const name of containment.withhold ?? []) delete env[name];
  if (containment.mark !== undefined) env[MARK_VARIABLE] = containment.mark;
  const marked = { ...launch, env };
  return containment.sandbox ? sandboxLaunch(marked, containment.sandbox) : marked;
}
