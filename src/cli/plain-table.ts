/**
 * The boxed table `ws status` and `ws run` print, drawn in linear time. cli-table3 draws the same
 * box but its layout is quadratic in cells (minutes at 50 000 steps); this covers the tables ws
 * makes (one line per cell, narrow characters) and returns undefined for anything else, so the
 * caller can hand those to cli-table3. test/cli/plain-table.test.ts checks both draw alike.
 */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export function plainTable(head: string[], rows: string[][]): string | undefined {
  const all = [head, ...rows];
  const widths = head.map(() => 0);
  const measured: number[][] = [];
  for (const row of all) {
    const cells: number[] = [];
    for (const [i, cell] of row.entries()) {
      const width = visibleWidth(cell);
      if (width === undefined) return undefined;
      cells.push(width);
      if (width > (widths[i] ?? 0)) widths[i] = width;
    }
    measured.push(cells);
  }
  const line = (left: string, mid: string, right: string) => left + widths.map((w) => "─".repeat(w + 2)).join(mid) + right;
  const lines = [line("┌", "┬", "┐")];
  for (const [r, row] of all.entries()) {
    const sizes = measured[r]!;
    lines.push(`│${widths.map((w, i) => ` ${row[i] ?? ""}${" ".repeat(w - (sizes[i] ?? 0))} `).join("│")}│`);
  }
  lines.push(line("└", "┴", "┘"));
  return lines.join("\n");
}

/** Columns a cell takes, or undefined when it is not one line of narrow characters. */
function visibleWidth(cell: string): number | undefined {
  const text = cell.includes("\u001b") ? cell.replace(ANSI, "") : cell;
  let width = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    // Control characters, combining marks and wide (East Asian, emoji) ranges: leave to cli-table3.
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code >= 0x2e80 || (code >= 0x300 && code < 0x370) || (code >= 0x1100 && code < 0x2000)) return undefined;
    width++;
  }
  return width;
}
