import { statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { ToolContext } from "./types.js";

/** The retry feedback is capped again here: a prompt is not the place for a whole test log. */
const FEEDBACK_MAX_LINES = 80;
const FEEDBACK_MAX_CHARS = 8000;

function lastLines(text: string): string {
  let lines = text.replace(/\s+$/, "").split(/\r?\n/);
  if (lines.length > FEEDBACK_MAX_LINES) lines = lines.slice(-FEEDBACK_MAX_LINES);
  let out = lines.join("\n");
  if (out.length > FEEDBACK_MAX_CHARS) out = out.slice(-FEEDBACK_MAX_CHARS);
  return out;
}

/** A fence longer than any backtick run in `text`, so the text cannot close it. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

function list(items: string[]): string {
  return items.map((item) => `- ${item}`).join("\n");
}

/**
 * The instructions for one attempt: what to do, which files may change, what to read, the
 * acceptance tests that decide it, and on a retry what failed. Plain text passed as one argv element or a file, never through a shell.
 */
export function buildPrompt(ctx: ToolContext): string {
  const { step } = ctx;
  const parts: string[] = [];
  parts.push(step.description ? `# ${step.description}` : `# Step ${step.id}`);
  if (step.tasks.length > 0) {
    parts.push(`## Tasks\n${step.tasks.map((task, i) => `${i + 1}. ${task}`).join("\n")}`);
  }
  if (step.fileScope.length > 0) {
    parts.push(`## Files you may change\nChange only these files (paths or globs, relative to the working directory):\n${list(step.fileScope)}`);
  }
  if (step.readOnly.length > 0) {
    parts.push(`## Read-only context\nRead these for context; do not change them:\n${list(step.readOnly)}`);
  }
  if (step.acceptanceTests.length > 0) {
    // Told up front, so an agent that can run commands checks its own work before it stops
    // (without this only a retry learned the bar, from the failing output).
    const tests = step.acceptanceTests.map((test) => test.run);
    const f = fence(tests.join("\n"));
    parts.push(
      `## How your work is judged\nWhen you stop, these commands run in order in your working directory (this step's own worktree, as you leave it); the step passes only if every one exits 0:\n${f}\n${tests.join("\n")}\n${f}\nRun them yourself before you finish.`,
    );
  }
  if (ctx.feedback !== undefined && ctx.feedback.trim() !== "") {
    const output = lastLines(ctx.feedback);
    const f = fence(output);
    parts.push(
      `## Previous attempt failed\nThis is attempt ${ctx.attempt}. The previous attempt was rejected; this is what failed (last lines of the output):\n${f}\n${output}\n${f}\nFix the work so that it passes.`,
    );
  }
  parts.push("## Rules\nWork without asking questions. Do not commit, push or create branches: the orchestrator commits your changes after its acceptance tests pass.");
  return parts.join("\n\n") + "\n";
}

/** Writes this attempt's prompt under the step's state folder (never into the working tree). */
export async function writePromptFile(ctx: ToolContext): Promise<{ file: string; text: string }> {
  const text = buildPrompt(ctx);
  await fs.mkdir(ctx.stepDir, { recursive: true });
  const file = path.join(ctx.stepDir, `prompt-${ctx.attempt}.md`);
  await fs.writeFile(file, text);
  return { file, text };
}

/** The size of the attempt's prompt (written by `prepare`), for estimating what each model call is sent; 0 when unknown. */
export function promptChars(ctx: ToolContext): number {
  try {
    return statSync(path.join(ctx.stepDir, `prompt-${ctx.attempt}.md`)).size;
  } catch {
    return 0; // no prompt file (a tool given the prompt otherwise): the estimate starts from nothing
  }
}
