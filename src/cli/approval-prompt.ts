import readline from "node:readline";
import type { ApprovalAnswer, AskApproval } from "../engine/approvals.js";

interface Question {
  step: string;
  prompt: string;
  signal: AbortSignal;
  resolve: (answer: ApprovalAnswer) => void;
}

/**
 * Approval questions at the run's terminal, one at a time. The other steps go on printing while a
 * question is open; the terminal stays in line mode, so Ctrl-C still stops the run. A question
 * decided another way (`ws approve` elsewhere, its timeout, the run's end) is withdrawn with a line saying so.
 */
export class TerminalPrompter {
  private readonly queue: Question[] = [];
  private active: Question | undefined;
  private lines: readline.Interface | undefined;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly write: (line: string) => void,
    /** The hint after the question: how to answer from elsewhere. */
    private readonly elsewhere: (step: string) => string,
  ) {}

  ask: AskApproval = (request, signal) =>
    new Promise((resolve) => {
      const question: Question = { ...request, signal, resolve };
      signal.addEventListener("abort", () => this.withdraw(question), { once: true });
      this.queue.push(question);
      this.next();
    });

  /** Stops reading the terminal, so the process can exit once the run is over. */
  close(): void {
    this.lines?.close();
    this.lines = undefined;
    this.input.pause();
  }

  private next(): void {
    if (this.active) return;
    const question = this.queue.shift();
    if (!question) return;
    this.active = question;
    this.write(`? ${question.step}: ${question.prompt} [y/n] (or: ${this.elsewhere(question.step)})`);
    if (!this.lines) {
      this.lines = readline.createInterface({ input: this.input, terminal: false });
      this.lines.on("line", (line) => this.answer(line));
    }
  }

  private answer(line: string): void {
    const question = this.active;
    if (!question) return;
    const text = line.trim();
    const no = /^(?:n|no)\b[\s:,-]*(.*)$/i.exec(text);
    // A stray Enter during an hour-long run must not reject a deploy: only y or n decide.
    if (!/^(?:y|yes)$/i.test(text) && !no) {
      this.write(`  answer y (approve) or n (reject; "n <reason>" records why)`);
      return;
    }
    this.active = undefined;
    question.resolve(no ? { approved: false, reason: no[1] || "answered no at the run's terminal" } : { approved: true });
    this.next();
  }

  private withdraw(question: Question): void {
    const queued = this.queue.indexOf(question);
    if (queued >= 0) this.queue.splice(queued, 1);
    if (this.active !== question) return;
    this.active = undefined;
    this.write(`  (${question.step}: no answer needed any more)`);
    this.next();
  }
}
