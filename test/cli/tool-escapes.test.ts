import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterAll, describe, expect, it } from "vitest";
import { stripAnsi, stripAnsiStream } from "../../src/format/ansi.js";
import { cleanup, makeProject, wsc } from "../run/rig.js";

/** A tool's colour codes stay in its log file, and out of what ws prints without colour. */

afterAll(cleanup);

const ESC = "\u001b";
const RED = `${ESC}[31m`;
const RESET = `${ESC}[0m`;

describe("stripAnsi", () => {
  it("removes colours, cursor moves, titles and links, and leaves the text and other characters", () => {
    expect(stripAnsi(`${RED}error${RESET}: ${ESC}[1;4mbad${ESC}[m`)).toBe("error: bad");
    expect(stripAnsi(`${ESC}[2K${ESC}[1Gdone ✔ ünïcode`)).toBe("done ✔ ünïcode");
    expect(stripAnsi(`${ESC}]0;title\u0007a ${ESC}]8;;https://x.test${ESC}\\link${ESC}]8;;${ESC}\\ b`)).toBe("a link b");
    expect(stripAnsi(`${ESC}7a${ESC}(Bb${ESC}8`)).toBe("ab");
    expect(stripAnsi("plain")).toBe("plain");
  });

  it("as a stream: a sequence split between chunks is removed, and multi-byte characters pass whole", async () => {
    const whole = Buffer.from(`été ${RED}rouge${RESET} ✔\n${ESC}]0;t\u0007fin\n`, "utf8");
    // Every split point, so each sequence and each multi-byte character is cut somewhere.
    for (let cut = 1; cut < whole.length; cut++) {
      const out = await text(Readable.from([whole.subarray(0, cut), whole.subarray(cut)]).pipe(stripAnsiStream()));
      expect(out, `cut at ${cut}`).toBe("été rouge ✔\nfin\n");
    }
  });
});

describe.concurrent("tool colour codes through the built binary", () => {
  // printf makes the escapes: the command line itself holds none.
  const colourful = "printf '\\033[31mtool says no\\033[0m\\n'; exit 1";

  it("ws run, ws status and piped ws logs print none; the log file keeps them; colour on keeps them in ws logs", async () => {
    const p = makeProject([{ id: "paint", steps: [{ id: "red", tool: "shell", run: colourful }] }]);
    const run = await wsc(p, ["run", "paint"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("tool says no");
    expect(run.stdout).not.toContain(ESC);
    const status = await wsc(p, ["status", "paint"], { COLUMNS: "200" });
    expect(status.stdout).not.toContain(ESC);
    const logs = await wsc(p, ["logs", "paint", "--step", "red"]);
    expect(logs.stdout).toContain("tool says no");
    expect(logs.stdout).not.toContain(ESC);
    const noColor = await wsc(p, ["logs", "paint", "--step", "red", "--no-color"], { FORCE_COLOR: "1" });
    expect(noColor.stdout).not.toContain(ESC);
    const log = fs.readFileSync(path.join(p.state("paint"), "steps", "red", "attempt-1.log"), "utf8");
    expect(log).toContain(`${RED}tool says no${RESET}`);
    expect((await wsc(p, ["logs", "paint", "--step", "red"], { FORCE_COLOR: "1" })).stdout).toContain(`${RED}tool says no${RESET}`);
  });

  it("a failure's one-line detail is printed without them (the reason column, the step's end line)", async () => {
    const p = makeProject([{ id: "detail", steps: [{ id: "t", tool: "shell", run: "true", acceptance_tests: [colourful] }] }]);
    const run = await wsc(p, ["run", "detail"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("tool says no");
    expect(run.stdout).not.toContain(ESC);
    expect(fs.readFileSync(path.join(p.state("detail"), "orchestrator.log"), "utf8")).not.toContain(ESC);
  });
});
