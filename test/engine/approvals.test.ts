import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ApprovalGates, type ApprovalSettings } from "../../src/engine/approvals.js";
import { TerminalPrompter } from "../../src/cli/approval-prompt.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { writeDecision } from "../../src/store/approvals.js";
import { wsPaths } from "../../src/store/paths.js";
import { workstreamOf } from "../helpers/workstream.js";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

function gates(settings: Partial<ApprovalSettings> = {}, approval: object = { prompt: "Ship?", timeout: 60 }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ws-gates-"));
  roots.push(root);
  const ws = workstreamOf({ id: "w", steps: [{ id: "ship", run: "true", approval }, { id: "free", run: "true" }] });
  // Time moves only when the test moves it: the gate polls, it never sleeps.
  const clock = { t: 0, now: () => clock.t, sleep: () => Promise.resolve(), advance: (ms: number) => (clock.t += ms) };
  const events: RunEvent[] = [];
  const paths = wsPaths(root, "w");
  const g = new ApprovalGates({ paths, runId: "run-1", clock, emit: (e) => events.push(e), settings: { user: "me", ...settings } });
  return { g, ws, clock, events, paths, step: ws.steps[0]!, free: ws.steps[1]! };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ApprovalGates", () => {
  it("lets a step without a gate through, and holds a gated one, once announcing it", () => {
    const { g, step, free, events } = gates();
    expect(g.check(free)).toEqual({ kind: "open" });
    expect(g.check(step).kind).toBe("wait");
    expect(g.check(step).kind).toBe("wait");
    expect(events.map((e) => e.type)).toEqual(["approval-wait"]);
    expect(events[0]).toMatchObject({ step: "ship", prompt: "Ship?", timeoutAt: new Date(60_000).toISOString() });
  });

  it("opens on a decision file of this run, ignores one left for another run, and rejects with who and why", () => {
    const { g, step, paths, events } = gates();
    expect(g.check(step).kind).toBe("wait");
    writeDecision(paths, "ship", { runId: "an-older-run", approved: true, by: "old", at: "x" });
    expect(g.check(step).kind).toBe("wait");
    writeDecision(paths, "ship", { runId: "run-1", approved: false, by: "alice", at: "x", reason: "not now" });
    expect(g.check(step)).toEqual({ kind: "rejected", detail: "by alice: not now" });
    // Decided once: the verdict stays, whatever the file says later.
    writeDecision(paths, "ship", { runId: "run-1", approved: true, by: "bob", at: "x" });
    expect(g.check(step).kind).toBe("rejected");
    expect(events.filter((e) => e.type === "approval-end")).toMatchObject([{ approved: false, by: "alice", via: "command", reason: "not now" }]);
  });

  it("rejects when the timeout passes, and never waits past it", () => {
    const { g, step, clock } = gates({}, { timeout: 2 });
    expect(g.check(step)).toEqual({ kind: "wait", retryInMs: 250 });
    clock.advance(1900);
    expect(g.check(step)).toEqual({ kind: "wait", retryInMs: 100 });
    clock.advance(100);
    expect(g.check(step)).toEqual({ kind: "rejected", detail: "nobody decided within 2s (approval.timeout)" });
  });

  it("--approve: a named step (or all) opens at once, recorded as the flag's", () => {
    for (const preApproved of [["ship"], "all"] as const) {
      const { g, step, events } = gates({ preApproved });
      expect(g.check(step)).toEqual({ kind: "open" });
      expect(events).toMatchObject([{ type: "approval-end", approved: true, by: "me", via: "flag" }]);
    }
  });

  it("takes the terminal's answer, and withdraws the question when the gate is decided elsewhere", async () => {
    const asked: string[] = [];
    let answer: ((a: { approved: boolean }) => void) | undefined;
    let withdrawn = false;
    const { g, step } = gates({
      ask: (request, signal) => {
        asked.push(request.prompt);
        signal.addEventListener("abort", () => (withdrawn = true));
        return new Promise((resolve) => (answer = resolve));
      },
    });
    expect(g.check(step).kind).toBe("wait");
    expect(asked).toEqual(["Ship?"]);
    answer?.({ approved: true });
    await tick();
    expect(g.check(step)).toEqual({ kind: "open" });
    expect(withdrawn).toBe(true);
  });
});

describe("TerminalPrompter", () => {
  it("asks one question at a time, re-asks on anything but y or n, and records a reason after n", async () => {
    const input = new PassThrough();
    const lines: string[] = [];
    const prompter = new TerminalPrompter(input, (l) => lines.push(l), (s) => `ws approve w --step ${s}`);
    const first = prompter.ask({ step: "a", prompt: "A?" }, new AbortController().signal);
    const second = prompter.ask({ step: "b", prompt: "B?" }, new AbortController().signal);
    expect(lines).toEqual(["? a: A? [y/n] (or: ws approve w --step a)"]);
    input.write("\nmaybe\ny\n");
    expect(await first).toEqual({ approved: true });
    input.write("n: code freeze\n");
    expect(await second).toEqual({ approved: false, reason: "code freeze" });
    expect(lines.filter((l) => l.includes("answer y"))).toHaveLength(2);
    expect(lines).toContain("? b: B? [y/n] (or: ws approve w --step b)");
    prompter.close();
  });

  it("withdraws an open question decided elsewhere and moves to the next", async () => {
    const input = new PassThrough();
    const lines: string[] = [];
    const prompter = new TerminalPrompter(input, (l) => lines.push(l), () => "elsewhere");
    const elsewhere = new AbortController();
    void prompter.ask({ step: "a", prompt: "A?" }, elsewhere.signal);
    const second = prompter.ask({ step: "b", prompt: "B?" }, new AbortController().signal);
    elsewhere.abort();
    expect(lines).toEqual(["? a: A? [y/n] (or: elsewhere)", "  (a: no answer needed any more)", "? b: B? [y/n] (or: elsewhere)"]);
    input.write("no\n");
    expect(await second).toEqual({ approved: false, reason: "answered no at the run's terminal" });
    prompter.close();
  });
});
