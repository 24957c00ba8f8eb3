import { stripAnsi } from "../format/ansi.js";

/**
 * Why a step or an attempt ended; shown in `ws status`. Data lives in fields (the exit code, the
 * signal, the failed dependency) so consumers never parse strings; `formatReason` gives the
 * printed form (`exit:1`, `blocked_by:a`), which is also what state.json and reports show.
 */
export type ReasonKind =
  | "passed"
  | "timeout"
  | "tests_failed"
  | "no_progress"
  | "skipped"
  | "cancelled"
  | "circuit_open"
  | "scope_violation"
  | "tool_error"
  | "quota"
  | "auth"
  | "network"
  | "budget"
  | "spawn_error"
  /** A member of a race (`cancel_rest`) stopped because another member passed first. */
  | "lost_race"
  /** Stopped or never started because its step group's `timeout` ran out. */
  | "group_timeout"
  /** Its approval gate was rejected (by someone, or by its timeout). */
  | "rejected"
  /** Its approval gate was rejected under `on_reject: "hold"`: not run, not failed; a resume asks again. */
  | "held"
  /** Its work and another step's changed the same lines: git cannot merge them (worktree runs). */
  | "merge_conflict";

export type EndReason =
  | { kind: ReasonKind }
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: string }
  | { kind: "blocked_by"; step: string }
  /** Not run because a step it depends on was skipped (its `when`, its run_if): the branch is pruned, as GitHub Actions does. */
  | { kind: "skipped_by"; step: string }
  /** Not run because of its run_if: `failure` = nothing it depends on failed. */
  | { kind: "run_if"; condition: "failure" }
  /** Not run because an approval gate it depends on (`step`) is held: a resume that approves it runs them. */
  | { kind: "held_by"; step: string };

export function formatReason(reason: EndReason): string {
  switch (reason.kind) {
    case "exit":
      return `exit:${reason.code}`;
    case "signal":
      return `signal:${reason.signal}`;
    case "blocked_by":
      return `blocked_by:${reason.step}`;
    case "skipped_by":
      return `skipped_by:${reason.step}`;
    case "run_if":
      return `run_if:${reason.condition}`;
    case "held_by":
      return `held_by:${reason.step}`;
    default:
      return reason.kind;
  }
}

/** A detail that only says again what the code says: a shell step's "command exited with code 1". */
const RESTATES_EXIT = /^(?:command )?exited with code (\d+)$/;

/**
 * The reason as the step table, `ws status` and the Markdown summary show it: the code and the
 * detail's first line, the cause a CI summary must show (`exit:1: 1 failed, 296 passed in 0.5s`).
 * A detail that only restates the exit is left out, and exit 127, the shell's "no such command",
 * says so (`exit:127: not found`) when the step printed nothing that names the command.
 */
export function reasonText(reason: EndReason, detail: string | undefined): string {
  const line = reasonDetail(reason, detail);
  return line === undefined ? formatReason(reason) : `${formatReason(reason)}: ${line}`;
}

/** The detail's first line as reasonText shows it after the code; undefined when it says nothing more. */
export function reasonDetail(reason: EndReason, detail: string | undefined): string | undefined {
  const line = stripAnsi(detail?.split("\n")[0] ?? "").trim();
  if (line !== "" && !RESTATES_EXIT.test(line)) return line;
  return reason.kind === "exit" && reason.code === 127 ? "not found" : undefined;
}

/** The reason of a plain kind, for call sites that carry no data. */
export function because(kind: ReasonKind): EndReason {
  return { kind };
}
