import path from "node:path";

/** A process's env with the lane's variables: the PYTHONPATH the step sets, else the one it inherits, comes after the lane's. */
export function withLaneVariables(lane: Record<string, string> | undefined, env: Record<string, string> | undefined, inheritedPythonPath: string | undefined): Record<string, string> | undefined {
  if (lane === undefined) return env;
  const merged = { ...lane, ...env };
  const own = env?.PYTHONPATH ?? inheritedPythonPath;
  if (lane.PYTHONPATH !== undefined) merged.PYTHONPATH = own === undefined || own === "" ? lane.PYTHONPATH : `${lane.PYTHONPATH}${path.delimiter}${own}`;
  return merged;
}
