import type { Usage } from "../events/usage.js";

/** "$0.0123 1,540 tok": what an agent step cost, for tables and reports; "" when nothing was reported. */
export function formatUsage(usage: Usage | undefined): string {
  if (!usage) return "";
  const parts: string[] = [];
  if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(usage.costUsd < 1 ? 4 : 2)}`);
  const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  if (tokens > 0) parts.push(`${tokens.toLocaleString("en-US")} tok`);
  return parts.join(" ");
}
