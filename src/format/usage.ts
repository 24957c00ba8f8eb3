import type { Usage } from "../events/usage.js";

const count = (n: number): string => n.toLocaleString("en-US");

/** Input and output tokens together: the one token figure every view shows ("" when none). */
function tokens(usage: Usage): string {
  const total = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  return total > 0 ? `${count(total)} tok` : "";
}

/** "$0.0123 1,540 tok": what an agent step cost, for tables and reports; "" when nothing was reported. */
export function formatUsage(usage: Usage | undefined): string {
  if (!usage) return "";
  const parts: string[] = [];
  if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(usage.costUsd < 1 ? 4 : 2)}`);
  const total = tokens(usage);
  if (total !== "") parts.push(total);
  return parts.join(" ");
}

/**
 * "49,200 tok (48,000 in, 1,200 out)": a run's tokens where there is room for the split, with the
 * same total and number format as the table's cells, so a summary and its table never seem to
 * disagree ("48000 in" beside "49,200 tok"). "" when nothing was reported.
 */
export function formatTokens(usage: Usage | undefined): string {
  if (!usage) return "";
  const total = tokens(usage);
  return total === "" ? "" : `${total} (${count(usage.inputTokens ?? 0)} in, ${count(usage.outputTokens ?? 0)} out)`;
}
