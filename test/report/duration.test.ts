import { expect, test } from "vitest";
import { formatDuration } from "../../src/format/duration.js";

test.each([
  [undefined, "-"],
  [0, "0ms"],
  [850, "850ms"],
  [1_234, "1.2s"],
  [30_000, "30s"],
  [59_940, "59.9s"],
  [60_000, "1m00s"],
  [125_000, "2m05s"],
  [3_599_000, "59m59s"],
  [3_660_000, "1h01m"],
])("formatDuration(%j) = %j", (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});
