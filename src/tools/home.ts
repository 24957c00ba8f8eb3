import os from "node:os";

/** The home folder the step's processes see: HOME from the run's environment, else the user's. */
export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}
