import path from "node:path";
import type { ActivityKind } from "../events/run-event.js";

/** One thing an agent did, as its adapter read it from the CLI's stream. */
export interface Activity {
  kind: ActivityKind;
  text: string;
}

/** An activity's text is one short line: the live view fits it to the width, events.jsonl keeps it. */
const TEXT_CHARS = 200;
/**
 * What the parser holds between two takes. The engine takes after every line, so more than one
 * is rare (a line naming several files); a cap keeps a pathological line from growing it.
 */
const QUEUE_CAP = 16;

/** One line of at most TEXT_CHARS: the first line of `text`, trimmed. */
export function oneLine(text: string): string {
  const nl = text.indexOf("\n");
  const line = (nl === -1 ? text : text.slice(0, nl)).trim();
  return line.length <= TEXT_CHARS ? line : `${line.slice(0, TEXT_CHARS - 1)}…`;
}

/** A path as the user reads it: relative to the step's folder when inside it (agents often print absolute ones). */
export function shownPath(file: string, cwd: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(cwd, file);
  return rel === "" ? "." : rel.startsWith("..") ? file : rel;
}

/** The activities a parser found since the engine last took them, oldest first, bounded. */
export class ActivityQueue {
  private items: Activity[] = [];

  push(kind: ActivityKind, text: string): void {
    const line = oneLine(text);
    if (line === "") return;
    if (this.items.length >= QUEUE_CAP) this.items.shift();
    this.items.push({ kind, text: line });
  }

  /** Undefined when there is nothing new: the common case costs no allocation. */
  take(): Activity[] | undefined {
    if (this.items.length === 0) return undefined;
    const out = this.items;
    this.items = [];
    return out;
  }
}

/** Characters per token: the usual rule of thumb for English and code with BPE tokenizers. */
const CHARS_PER_TOKEN = 4;

/**
 * Tokens of an attempt whose CLI reports them only at its end (Codex's `turn.completed` closes
 * the whole `exec` turn; Gemini CLI's stream-json has them on `result` only): estimated from what
 * the stream shows, so a budget can stop a runaway before it ends. Each model call is charged
 * the whole context as input (the prompt and everything streamed so far: the API is stateless),
 * and what the model wrote as output. An estimate, replaced by the CLI's own figure once it
 * reports one.
 */
export class StreamEstimate {
  private context: number;
  private inputChars = 0;
  private outputChars = 0;
  calls = 0;

  constructor(promptChars: number) {
    this.context = promptChars;
  }

  /** A model call starts: it is sent the context as it stands. */
  call(): void {
    this.calls += 1;
    this.inputChars += this.context;
  }

  /** What the model wrote (text, tool arguments): output, and context of every later call. */
  wrote(chars: number): void {
    this.outputChars += chars;
    this.context += chars;
  }

  /** What a tool answered: context of the next call. */
  read(chars: number): void {
    this.context += chars;
  }

  get inputTokens(): number {
    return Math.round(this.inputChars / CHARS_PER_TOKEN);
  }

  get outputTokens(): number {
    return Math.round(this.outputChars / CHARS_PER_TOKEN);
  }
}
