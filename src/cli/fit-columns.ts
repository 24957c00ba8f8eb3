/**
 * Fitting a table to the terminal: a row wider than the terminal wraps, and every wrapped row
 * breaks the table apart. Only the columns a plan names give way, in its order: cut (elided with
 * `…`, keeping the start or the end) down to a minimum, or dropped whole; the others (ids above
 * all: two ids cut to one prefix are two steps no one can tell apart) are kept as they are.
 */

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
const visible = (text: string): number => [...text.replace(SGR, "")].length;

export type FitStep = { cut: number; keep: "start" | "end"; min: number } | { drop: number };

/** How wide a table of these column widths is drawn: its borders and padding. */
export type Frame = (widths: number[]) => number;

/** cli-table3's box and plainTable: a space each side of a cell, a border between and around. */
export const BOX: Frame = (widths) => widths.reduce((sum, w) => sum + w + 3, 1);

/** Columns apart by two spaces (`ws list`). */
export const SPACED: Frame = (widths) => widths.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, widths.length - 1);

export interface Fitted {
  /** The head and rows, without the dropped columns. */
  rows: string[][];
  /** Indexes (in the table given) of the columns dropped. */
  dropped: Set<number>;
}

/** `rows` (head first) fitted to `width` columns by the plan's steps, as few as it takes. */
export function fitColumns(rows: string[][], width: number, plan: FitStep[], frame: Frame = BOX): Fitted {
  const columns = rows[0]?.length ?? 0;
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...rows.map((r) => visible(r[i] ?? ""))));
  const dropped = new Set<number>();
  const total = () => frame(widths.filter((_, i) => !dropped.has(i)));
  const cuts = new Map<number, { keep: "start" | "end"; target: number }>();
  for (const step of plan) {
    const over = total() - width;
    if (over <= 0) break;
    if ("drop" in step) {
      dropped.add(step.drop);
      continue;
    }
    const current = widths[step.cut] ?? 0;
    const target = Math.max(step.min, current - over);
    if (target >= current) continue;
    widths[step.cut] = target;
    cuts.set(step.cut, { keep: step.keep, target });
  }
  const fitted = rows.map((row) =>
    row.flatMap((cell, i) => {
      if (dropped.has(i)) return [];
      const cut = cuts.get(i);
      return [cut ? elide(cell, cut.target, cut.keep) : cell];
    }),
  );
  return { rows: fitted, dropped };
}

/** `text` in at most `width` columns: its start (or end) and `…`. Colour is dropped from a cut cell. */
export function elide(text: string, width: number, keep: "start" | "end" = "start"): string {
  if (visible(text) <= width) return text;
  const chars = [...text.replace(SGR, "")];
  if (width <= 1) return "…".slice(0, width);
  return keep === "end" ? "…" + chars.slice(chars.length - width + 1).join("") : chars.slice(0, width - 1).join("") + "…";
}
