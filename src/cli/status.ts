import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { out } from "./context.js";
import { wsPaths, STATE_FOLDER } from "../store/paths.js";
import type { RunState } from "../store/run-state.js";
import { formatDuration } from "../format/duration.js";
import { COMPACT } from "./summary-table.js";

export interface StatusOptions {
  wsId?: string;
  json?: boolean;
  watch?: boolean;
}

/** A run whose process is gone without a run-end (kill -9, crash, power loss). */
export interface StatusReport {
  state: RunState;
  interrupted: boolean;
}

export async function readStatus(cwd: string, wsId: string): Promise<StatusReport | undefined> {
  const { loadRunState } = await import("../store/snapshot.js");
  const { readLockHolder } = await import("../store/lock.js");
  const paths = wsPaths(cwd, wsId);
  const state = loadRunState(paths);
  if (!state) return undefined;
  const holder = readLockHolder(paths.lock);
  const interrupted = state.status === "running" && !(holder?.alive && holder.pid === state.pid);
  return { state, interrupted };
}

/** Every workstream with a file or a state folder, with its last run. */
export async function readAllStatus(ctx: CliContext): Promise<Array<{ id: string; report: StatusReport | undefined }>> {
  const { listWorkstreamFiles } = await import("../workstream/locate-file.js");
  const ids = new Set(listWorkstreamFiles(ctx.dir).map((f) => path.basename(f).replace(/\.(json|ya?ml)$/, "")));
  const stateRoot = path.join(ctx.cwd, STATE_FOLDER);
  if (fs.existsSync(stateRoot)) {
    for (const entry of fs.readdirSync(stateRoot, { withFileTypes: true })) {
      if (entry.isDirectory() && fs.existsSync(path.join(stateRoot, entry.name, "events.jsonl"))) ids.add(entry.name);
    }
  }
  const rows = [];
  for (const id of [...ids].sort()) rows.push({ id, report: await readStatus(ctx.cwd, id) });
  return rows;
}

/** For a run in progress: its elapsed time, and the ETA from the plan's estimate (history medians). */
function progressOf(state: RunState, interrupted: boolean): string {
  if (state.status !== "running" || interrupted) return "";
  const elapsed = Date.now() - Date.parse(state.startedAt);
  const eta = state.estimateMs !== undefined ? ` · ETA ${formatDuration(Math.max(0, state.estimateMs - elapsed))}` : "";
  return ` · elapsed ${formatDuration(elapsed)}${eta}`;
}

export async function statusCommand(options: StatusOptions, ctx: CliContext): Promise<number> {
  const { Chalk } = await import("chalk");
  const chalk = new Chalk({ level: ctx.color ? 1 : 0 });
  if (options.wsId === undefined) {
    const rows = await readAllStatus(ctx);
    if (options.json) {
      out(ctx, JSON.stringify(rows.map(({ id, report }) => ({ id, lastRun: report ? summarize(report) : null })), null, 2));
      return 0;
    }
    if (rows.length === 0) {
      out(ctx, `no workstreams in ${path.relative(ctx.cwd, ctx.dir) || "."} and no runs yet (try: ws init)`);
      return 0;
    }
    const { default: Table } = await import("cli-table3");
    const table = new Table({ head: ["workstream", "last run", "steps passed", "started", "duration"].map((h) => chalk.bold(h)), style: { head: [], border: [] }, chars: COMPACT });
    for (const { id, report } of rows) {
      if (!report) {
        table.push([id, chalk.dim("never run"), "", "", ""]);
        continue;
      }
      const s = summarize(report);
      table.push([id, s.status, `${s.passed}/${s.total}`, s.startedAt.replace("T", " ").slice(0, 19), s.durationMs !== undefined ? formatDuration(s.durationMs) : ""]);
    }
    out(ctx, table.toString());
    return 0;
  }

  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const wsId = options.wsId;
  const hasState = fs.existsSync(wsPaths(ctx.cwd, wsId).events);
  // An id with neither a file nor a run is a typo: the locator explains and suggests.
  if (!hasState) locateWorkstream(wsId, { dir: ctx.dir });

  const render = async (): Promise<{ text: string; running: boolean; json: string }> => {
    const report = await readStatus(ctx.cwd, wsId);
    if (!report) return { text: `${wsId}: no run yet (start one with: ws run --ws-id ${wsId})`, running: false, json: JSON.stringify({ id: wsId, lastRun: null }) };
    const { stepTable } = await import("./summary-table.js");
    const s = summarize(report);
    const root = path.relative(ctx.cwd, wsPaths(ctx.cwd, wsId).root);
    const lines = [
      `${wsId}: ${s.status} · run ${report.state.runId} · started ${s.startedAt.replace("T", " ").slice(0, 19)}${s.durationMs !== undefined ? ` · ${formatDuration(s.durationMs)}` : ""} · ${s.passed}/${s.total} passed${progressOf(report.state, report.interrupted)}`,
      await stepTable(report.state, chalk, { logs: true, root }),
    ];
    const outputs = report.state.order.flatMap((id) => Object.entries(report.state.steps[id]?.outputs ?? {}).map(([k, v]) => `  ${id}.${k} = ${JSON.stringify(v)}`));
    if (outputs.length > 0) lines.push("outputs:", ...outputs);
    const rollback = report.state.rollback;
    if (rollback) {
      const failedComp = rollback.steps.filter((id) => report.state.steps[id]?.compensation?.state === "failed");
      const what = rollback.state === "running" ? "in progress (continue with --resume)" : failedComp.length > 0 ? `done, compensation failed: ${failedComp.join(", ")}` : "done";
      lines.push(`rollback of ${rollback.steps.join(", ") || "no step"}: ${what}`);
    }
    if (report.interrupted) lines.push(chalk.yellow(`the run was interrupted (its process ${report.state.pid} is gone); continue with: ws run --ws-id ${wsId} --resume`));
    if (report.state.branch) lines.push(`work is on branch ${report.state.branch} (git merge ${report.state.branch})`);
    return { text: lines.join("\n"), running: report.state.status === "running" && !report.interrupted, json: JSON.stringify({ ...report.state, interrupted: report.interrupted }, null, 2) };
  };

  if (!options.watch) {
    const r = await render();
    out(ctx, options.json ? r.json : r.text);
    return 0;
  }
  let previous = "";
  for (;;) {
    const r = await render();
    const text = options.json ? r.json : r.text;
    if (text !== previous) {
      if (ctx.interactive && !options.json) ctx.stdout.write("\x1b[2J\x1b[H");
      out(ctx, text);
      previous = text;
    }
    if (!r.running) return 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function summarize(report: StatusReport) {
  const records = Object.values(report.state.steps);
  return {
    status: report.interrupted ? "interrupted" : report.state.status,
    runId: report.state.runId,
    startedAt: report.state.startedAt,
    durationMs: report.state.durationMs,
    passed: records.filter((r) => r.state === "passed").length,
    total: records.length,
  };
}
