import { Transform } from "node:stream";

/**
 * Terminal escape sequences a tool's output may hold: CSI (colours, cursor moves, erasing), OSC
 * (window titles, hyperlinks; ended by BEL or ESC \) and the short ones (ESC 7, ESC ( B), never
 * taking the `[` or `]` of an unfinished CSI or OSC for a short one. ASCII only, so it
 * works on text and, read as latin1, on raw bytes without touching multi-byte characters.
 */
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[ -/]*[0-Z\\^-~])/g;

/** A tool's text as ws shows it in its own lines: ws colours its output itself, and a tool's
 *  colour codes would reach pipes and --no-color output, or bleed into ws's table past their cell. */
export function stripAnsi(text: string): string {
  return text.includes("\u001b") ? text.replace(ESCAPE, "") : text;
}

/** Longest unfinished sequence held back at a chunk's end before it is let through as it is. */
const HOLD_LIMIT = 256;

/**
 * stripAnsi over a byte stream (`ws logs` piped or without colour): a sequence split across two
 * chunks is held back until the rest arrives. The bytes between sequences pass unchanged.
 */
export function stripAnsiStream(): Transform {
  let held = "";
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = held + chunk.toString("latin1");
      const last = text.lastIndexOf("\u001b");
      // An escape near the end that the pattern does not complete yet: wait for the next chunk.
      const cut = last >= 0 && text.length - last < HOLD_LIMIT && !complete(text.slice(last)) ? last : text.length;
      held = text.slice(cut);
      done(null, Buffer.from(text.slice(0, cut).replace(ESCAPE, ""), "latin1"));
    },
    flush(done) {
      done(null, Buffer.from(held.replace(ESCAPE, ""), "latin1"));
    },
  });
}

function complete(tail: string): boolean {
  ESCAPE.lastIndex = 0;
  const match = ESCAPE.exec(tail);
  ESCAPE.lastIndex = 0;
  return match !== null && match.index === 0;
}
