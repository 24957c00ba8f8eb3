import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import type { RunListener } from "../events/listener.js";
import type { RunEvent } from "../events/run-event.js";
import type { RunState } from "../store/run-state.js";
import type { Workstream } from "../workstream/model.js";
import type { Gantt } from "./gantt-mermaid.js";

/** GitHub Actions workflow commands (groups, errors, warnings), printed as the run goes. */
export async function githubActionsListener(write: (line: string) => void): Promise<RunListener> {
  const { githubActionsLines } = await import("./github-actions.js");
  return { onEvent: (event) => githubActionsLines(event).forEach(write) };
}

/** JUnit XML of the run, written once it ended. */
export function junitListener(ws: Workstream, file: string): RunListener {
  const events: RunEvent[] = [];
  return {
    onEvent: (event) => void events.push(event),
    close: async () => {
      const { renderJunit } = await import("./junit.js");
      writeReport(file, renderJunit(ws, events));
    },
  };
}

/** The Markdown summary (with the run's gantt and the graph as Mermaid), written or appended once the run ended. */
export function markdownSummaryListener(ws: Workstream, cwd: string, targets: Array<{ file: string; append: boolean }>): RunListener {
  let last: RunState | undefined;
  const events: RunEvent[] = [];
  return {
    onEvent: (event, state) => {
      last = state;
      // This run's events, for its timeline: from its run-start on.
      if (event.type === "run-start") events.length = 0;
      events.push(event);
    },
    close: async () => {
      if (!last) return;
      const { renderMarkdownSummary } = await import("./markdown-summary.js");
      const { workstreamView } = await import("../render/workstream-view.js");
      const { renderMermaid } = await import("../render/mermaid.js");
      const text = renderMarkdownSummary(ws, last, renderMermaid(workstreamView(ws, cwd, last)), await ganttOf(ws, events));
      for (const target of targets) writeReport(target.file, target.append ? text + "\n" : text, target.append);
    },
  };
}

async function ganttOf(ws: Workstream, events: RunEvent[]): Promise<Gantt | undefined> {
  if (events[0]?.type !== "run-start") return undefined;
  const { buildTimeline, stepDeps } = await import("./timeline.js");
  const { renderGanttMermaid } = await import("./gantt-mermaid.js");
  const { buildGraph } = await import("../graph/graph.js");
  return renderGanttMermaid(buildTimeline({ events, deps: stepDeps(buildGraph(ws)) }));
}

function writeReport(file: string, text: string, append = false): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (append) fs.appendFileSync(file, text);
    else fs.writeFileSync(file, text);
  } catch (error) {
    throw new UserError(`cannot write ${file}: ${(error as Error).message}`);
  }
}
