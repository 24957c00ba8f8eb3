import { suggestOrList } from "../workstream/suggest.js";
import type { Diagnostic, DocPath, SourceFile, SourceLocation } from "../diagnostics.js";
import { BUILTIN_TOOLS, type Workstream } from "../workstream/model.js";
import { findScopeConflicts } from "./conflicts.js";
import { findCycles, MAX_CYCLES } from "./cycles.js";
import { buildGraph, type Graph } from "./graph.js";
import { scopeEntryProblem } from "../scope/patterns.js";

/** A pathological workstream can have millions of conflicting pairs; nobody reads past this. */
const MAX_CONFLICT_DIAGNOSTICS = 200;

const CONFLICT_FIX = 'add depends_on between them, narrow the scopes, or set execution.file_conflicts to "serialize"';

/**
 * Every graph-level problem of a workstream, in one pass: duplicate ids, unknown ids (with a
 * suggestion), group problems, cycles (each edge located), sequential groups that contradict
 * depends_on, scope entries outside the project, agent steps without file_scope, and file-scope
 * conflicts. A self-dependency is reported with code `self-dependency` but in the cycle format
 * (`cycle: a → a`), so it reads like every other cycle.
 */
export function checkGraph(ws: Workstream, source: SourceFile | undefined): Diagnostic[] {
  const file = source?.path ?? ws.file;
  const out: Diagnostic[] = [];
  const g = buildGraph(ws);
  const c: Ctx = {
    ws,
    g,
    at: (path, part) => source?.locate(path, part),
    report: (d) => void out.push({ file, ...d }),
    stepPath: (node) => ["steps", ws.steps[node]?.index ?? node],
    groupIds: new Map<string, number>(),
  };
  checkIds(c);
  checkDependencies(c);
  const edgeLabel = edgeLabeller(c);
  checkCycles(c, edgeLabel);
  const located = (from: number, to: number) => {
    const { message, location } = edgeLabel(from, to);
    return { message, location };
  };
  out.push(...checkGroupOrder(ws, g, file, c.at, located));
  checkScopes(c);
  checkConflicts(c);
  return out;
}

/** What every check of one workstream shares: the graph, where things are, and the report. */
interface Ctx {
  ws: Workstream;
  g: Graph;
  at: (path: DocPath, part?: "key" | "value") => SourceLocation | undefined;
  report: (d: Omit<Diagnostic, "file">) => void;
  stepPath: (node: number) => DocPath;
  /** Step group id → its first index; filled by checkIds. */
  groupIds: Map<string, number>;
}

type EdgeLabel = (from: number, to: number) => { message: string; location: SourceLocation | undefined; group: string | undefined };

/** Duplicate step and group ids, group ids that are step ids, unknown group members. */
function checkIds({ ws, g, at, report, stepPath, groupIds }: Ctx): void {
  // The index keeps each id once: as many ids as steps means no duplicate, with no lookup per step.
  if (g.index.size < g.ids.length) ws.steps.forEach((step, node) => {
    const first = g.index.get(step.id)!;
    if (first === node) return;
    report({
      severity: "error",
      code: "duplicate-id",
      message: `duplicate step id "${step.id}"`,
      location: at([...stepPath(node), "id"]),
      fix: "give every step a unique id",
      related: [{ message: `"${step.id}" is first defined here`, location: at([...stepPath(first), "id"]) }],
    });
  });

  ws.stepGroups.forEach((group, k) => {
    const first = groupIds.get(group.id);
    if (first !== undefined) {
      report({
        severity: "error",
        code: "duplicate-id",
        message: `duplicate step group id "${group.id}"`,
        location: at(["step_groups", k, "id"]),
        fix: "give every step group a unique id",
        related: [{ message: `"${group.id}" is first defined here`, location: at(["step_groups", first, "id"]) }],
      });
    } else {
      groupIds.set(group.id, k);
    }
    const clash = g.index.get(group.id);
    if (clash !== undefined) {
      report({
        severity: "error",
        code: "group-id-clash",
        message: `step group id "${group.id}" is also a step id`,
        location: at(["step_groups", k, "id"]),
        fix: "rename the group: in depends_on the name must mean one thing",
        related: [{ message: `step "${group.id}" is defined here`, location: at([...stepPath(clash), "id"]) }],
      });
    }
    group.steps.forEach((id, m) => {
      if (g.index.has(id)) return;
      report({
        severity: "error",
        code: "unknown-group-member",
        message: `step group "${group.id}" names unknown step "${id}"`,
        location: at(["step_groups", k, "steps", m]),
        fix: suggestOrList(id, g.ids, "there are no steps to depend on"),
      });
    });
  });
}

function checkDependencies({ ws, g, at, report, stepPath, groupIds }: Ctx): void {
  let names: string[] | undefined;
  ws.steps.forEach((step, node) => {
    // Without groups each name is one node at most, so as many distinct nodes as names means all
    // are known: most steps need no lookup (50 000 of them in a big workstream).
    if (ws.stepGroups.length === 0 && g.deps[node]!.length === step.dependsOn.length) return;
    step.dependsOn.forEach((id, j) => {
      if (g.index.has(id) || groupIds.has(id)) return;
      report({
        severity: "error",
        code: "unknown-dependency",
        message: `step "${step.id}" depends on unknown step "${id}"`,
        location: at([...stepPath(node), "depends_on", j]),
        fix: suggestOrList(id, (names ??= [...g.ids, ...groupIds.keys()]).filter((name) => name !== step.id), "there are no steps to depend on"),
      });
    });
  });
}

/** Which depends_on entry of a step makes it depend on another, for locating cycle edges. */
function edgeLabeller({ ws, g, at, stepPath }: Ctx): EdgeLabel {
  /** Which depends_on entry of `from` makes it depend on `to`, and through which group if any. */
  const edgeSource = (from: number, to: number): { entry: number | undefined; group: string | undefined } => {
    const target = g.ids[to]!;
    for (const [entry, id] of ws.steps[from]!.dependsOn.entries()) {
      const named = g.index.get(id);
      if (named === to) return { entry, group: undefined };
      if (named === undefined && ws.stepGroups.some((group) => group.id === id && group.steps.includes(target))) return { entry, group: id };
    }
    return { entry: undefined, group: undefined };
  };
  return (from, to) => {
    const { entry, group } = edgeSource(from, to);
    const through = group === undefined ? "" : ` (through step group "${group}")`;
    return {
      message: `${g.ids[from]} depends on ${g.ids[to]}${through}`,
      location: entry === undefined ? undefined : at([...stepPath(from), "depends_on", entry]),
      group,
    };
  };
}

function checkCycles({ g, report }: Ctx, edgeLabel: EdgeLabel): void {
  const cycles = findCycles(g);
  for (const cycle of cycles) {
    const edges = cycle.map((from, k) => edgeLabel(from, cycle[(k + 1) % cycle.length]!));
    const related = edges.map(({ message, location }) => ({ message, location }));
    const self = cycle.length === 1;
    report({
      severity: "error",
      code: self ? "self-dependency" : "cycle",
      message: `cycle: ${[...cycle, cycle[0]!].map((node) => g.ids[node]).join(" → ")}`,
      location: edges[0]?.location,
      fix: self ? selfFix(g.ids[cycle[0]!]!, edges[0]?.group) : "remove one of these depends_on entries",
      related,
    });
  }

  if (cycles.length >= MAX_CYCLES) {
    report({
      severity: "note",
      code: "cycle",
      message: `the first ${MAX_CYCLES} cycles are shown; there may be more`,
      fix: "break the cycles above, then validate again",
    });
  }
}

/** Scope entries outside the project, agent steps without a file_scope. */
function checkScopes({ ws, at, report, stepPath }: Ctx): void {
  ws.steps.forEach((step, node) => {
    for (const key of ["file_scope", "read_only"] as const) {
      const entries = key === "file_scope" ? step.fileScope : step.readOnly;
      for (let j = 0; j < entries.length; j++) {
        const entry = entries[j]!;
        const problem = scopeEntryProblem(entry);
        const bad = problem === "absolute" ? "is absolute" : problem === "outside" ? "climbs out of the project" : undefined;
        if (bad === undefined) continue;
        report({
          severity: "error",
          code: "scope-outside-project",
          message: `${key} entry "${entry}" of step "${step.id}" ${bad}`,
          location: at([...stepPath(node), key, j]),
          fix: "use a path relative to the project root, inside it",
        });
      }
    }
    // An unknown tool is already an error (check-semantics); "no file_scope" on top would only distract.
    if (step.tool !== "shell" && !step.hasFileScope && ((BUILTIN_TOOLS as readonly string[]).includes(step.tool) || ws.tools[step.tool] !== undefined)) {
      report({
        severity: "warning",
        code: "missing-file-scope",
        message: `agent step "${step.id}" (${step.tool}) has no file_scope: its file conflicts cannot be checked`,
        location: at([...stepPath(node), "id"]),
        fix: 'add "file_scope" with the paths or globs it may change',
      });
    }
  });
}

function checkConflicts({ ws, g, at, report, stepPath }: Ctx): void {
  const serialize = ws.execution.fileConflicts === "serialize";
  const conflicts = findScopeConflicts(ws, g);
  for (const conflict of conflicts.slice(0, MAX_CONFLICT_DIAGNOSTICS)) {
    const a = ws.steps[conflict.a]!;
    const b = ws.steps[conflict.b]!;
    const claims = `"${a.id}" claims "${conflict.patternA}", "${b.id}" claims "${conflict.patternB}"`;
    report({
      severity: serialize ? "note" : "error",
      code: "file-conflict",
      message: serialize
        ? `steps "${a.id}" and "${b.id}" will not run at the same time: their file scopes overlap (${claims})`
        : `steps "${a.id}" and "${b.id}" may run at the same time and their file scopes overlap: ${claims}`,
      location: at([...stepPath(conflict.a), "file_scope", a.fileScope.indexOf(conflict.patternA)]),
      fix: serialize ? undefined : CONFLICT_FIX,
      related: [
        {
          message: `"${b.id}" claims "${conflict.patternB}" here`,
          location: at([...stepPath(conflict.b), "file_scope", b.fileScope.indexOf(conflict.patternB)]),
        },
      ],
    });
  }
  if (conflicts.length > MAX_CONFLICT_DIAGNOSTICS) {
    report({
      severity: serialize ? "note" : "error",
      code: "file-conflict",
      message: `${conflicts.length - MAX_CONFLICT_DIAGNOSTICS} more pairs of steps with overlapping file scopes are not shown`,
      fix: serialize ? undefined : CONFLICT_FIX,
    });
  }
}

/**
 * A sequential group makes each member wait for the one listed before it. If depends_on (or
 * another sequential group) orders them the other way, the scheduler would wait forever: find
 * the cycles of depends_on plus group order that use at least one group edge.
 */
function checkGroupOrder(
  ws: Workstream,
  g: Graph,
  file: string,
  at: (path: DocPath) => SourceLocation | undefined,
  edgeLabel: (from: number, to: number) => { message: string; location: SourceLocation | undefined },
): Diagnostic[] {
  const groupEdges = new Map<number, { group: number; member: number }>();
  const n = g.ids.length;
  const deps = g.deps.map((list) => [...list]);
  ws.stepGroups.forEach((group, k) => {
    if (group.execute !== "sequential") return;
    let previous: number | undefined;
    group.steps.forEach((id, m) => {
      const node = g.index.get(id);
      if (node === undefined || node === previous) return;
      if (previous !== undefined && !deps[node]!.includes(previous)) {
        deps[node]!.push(previous);
        groupEdges.set(node * n + previous, { group: k, member: m });
      }
      previous = node;
    });
  });
  if (groupEdges.size === 0) return [];
  const dependents: number[][] = g.ids.map(() => []);
  deps.forEach((list, node) => {
    list.sort((a, b) => a - b);
    for (const dep of list) dependents[dep]!.push(node);
  });
  const ordered: Graph = { ids: g.ids, index: g.index, deps, dependents };
  const out: Diagnostic[] = [];
  for (const cycle of findCycles(ordered)) {
    const pairs = cycle.map((from, k) => [from, cycle[(k + 1) % cycle.length]!] as const);
    if (!pairs.some(([from, to]) => groupEdges.has(from * n + to))) continue;
    const edges = pairs.map(([from, to]) => {
      const viaGroup = groupEdges.get(from * n + to);
      if (viaGroup === undefined) return edgeLabel(from, to);
      const group = ws.stepGroups[viaGroup.group]!;
      return {
        message: `${g.ids[from]} runs after ${g.ids[to]} in sequential group "${group.id}"`,
        location: at(["step_groups", viaGroup.group, "steps", viaGroup.member]),
      };
    });
    out.push({
      severity: "error",
      code: "group-order",
      message: `sequential group order contradicts depends_on: ${[...cycle, cycle[0]!].map((node) => g.ids[node]).join(" → ")}`,
      file,
      location: edges[0]?.location,
      fix: "reorder the group's steps to follow depends_on, or make the group parallel",
      related: edges,
    });
  }
  return out;
}

function selfFix(id: string, group: string | undefined): string {
  return group === undefined
    ? `remove "${id}" from its own depends_on`
    : `"${id}" depends on step group "${group}", which contains it: remove one from the other`;
}

