import Table from "cli-table3";
import { describe, expect, it } from "vitest";
import { plainTable } from "../../src/cli/plain-table.js";
import { COMPACT } from "../../src/cli/summary-table.js";

function cliTable3(head: string[], rows: string[][]): string {
  const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
  table.push(...rows);
  return table.toString();
}

describe("plainTable draws what cli-table3 draws, in linear time", () => {
  it.each([
    [["step", "state"], []],
    [["step", "state", "x"], [["a", "✔ passed", ""], ["longer-id", "\u001b[31m✖ failed\u001b[39m", "3"], ["b", "", "12s"]]],
    [["\u001b[1mstep\u001b[22m", "reason"], [["s-1", "blocked_by:a"], ["s-2", "⊘ blocked ↷ skipped ■ ▶ · …"]]],
    [["a", "b", "c"], [["", "", ""], ["é ü ß", "$0.0012 1,234 tok", ".worktrees/x/steps/a/attempt-1.log"]]],
  ])("table %#", (head, rows) => {
    expect(plainTable(head, rows)).toBe(cliTable3(head, rows));
  });

  it("declines cells it cannot measure (several lines, wide characters)", () => {
    expect(plainTable(["a"], [["two\nlines"]])).toBeUndefined();
    expect(plainTable(["a"], [["漢字"]])).toBeUndefined();
    expect(plainTable(["a"], [["🚀"]])).toBeUndefined();
  });
});
