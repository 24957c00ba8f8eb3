/** The events that start an exported workflow (`--on`, `--cron`). */

export const TRIGGERS = ["push", "pull_request", "workflow_dispatch", "schedule"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface Triggers {
  events: Trigger[];
  /** For `schedule`: cron lines (UTC, five fields). */
  crons: string[];
}

export const DEFAULT_TRIGGERS: Triggers = { events: ["workflow_dispatch"], crons: [] };

export type TriggersResult = { ok: true; triggers: Triggers } | { ok: false; message: string; fix: string };

/** `--on` values (repeated or comma lists) and `--cron` lines, checked; the events in a fixed order, so the text is stable. */
export function parseTriggers(on: readonly string[] | undefined, crons: readonly string[] | undefined): TriggersResult {
  const given = (on ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const unknown = given.filter((v) => !(TRIGGERS as readonly string[]).includes(v));
  if (unknown.length > 0) {
    return { ok: false, message: `--on ${unknown.join(",")}: unknown event`, fix: `one or more of ${TRIGGERS.join(", ")} (e.g. --on push,pull_request)` };
  }
  const events = given.length > 0 ? TRIGGERS.filter((t) => given.includes(t)) : DEFAULT_TRIGGERS.events;
  const lines = (crons ?? []).map((c) => c.trim().replace(/\s+/g, " "));
  if (events.includes("schedule") && lines.length === 0) {
    return { ok: false, message: "--on schedule needs the times: --cron '<min> <hour> <day> <month> <weekday>' (UTC)", fix: `--on schedule --cron '0 3 * * 1'` };
  }
  if (!events.includes("schedule") && lines.length > 0) {
    return { ok: false, message: "--cron is for a scheduled workflow", fix: `add --on schedule (with the other events you want)` };
  }
  const bad = lines.find((c) => c.split(" ").length !== 5);
  if (bad !== undefined) return { ok: false, message: `--cron '${bad}': a cron line has five fields`, fix: `--cron '0 3 * * 1' (03:00 UTC every Monday)` };
  return { ok: true, triggers: { events, crons: lines } };
}

/** The workflow's `on:` map. */
export function onMap(triggers: Triggers): Record<string, unknown> {
  const on: Record<string, unknown> = {};
  for (const event of triggers.events) on[event] = event === "schedule" ? triggers.crons.map((cron) => ({ cron })) : {};
  return on;
}

/** The flags that give these triggers again (none for the default). */
export function triggerFlags(triggers: Triggers): string {
  if (triggers.events.join() === DEFAULT_TRIGGERS.events.join()) return "";
  return ` --on ${triggers.events.join(",")}${triggers.crons.map((c) => ` --cron '${c}'`).join("")}`;
}
