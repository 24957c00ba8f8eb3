import type { Step } from "../workstream/model.js";

interface Span {
  step: Step;
  start: number;
  end: number | undefined;
}

/**
 * Every attempt's span in time: a step that edited a file and ended mid-way through another
 * step's attempt still owns that edit, so a scope check looks at all overlapping attempts.
 */
export class ScopeSpans {
  private readonly spans: Span[] = [];

  constructor(private readonly now: () => number) {}

  begin(step: Step): Span {
    const span: Span = { step, start: this.now(), end: undefined };
    this.spans.push(span);
    return span;
  }

  end(span: Span): void {
    span.end = this.now();
    // Spans older than every running attempt can no longer matter.
    const oldest = Math.min(...this.spans.filter((x) => x.end === undefined).map((x) => x.start));
    for (let k = this.spans.length - 1; k >= 0; k--) if ((this.spans[k]!.end ?? Infinity) < oldest) this.spans.splice(k, 1);
  }

  /** The scopes of the other steps whose attempts overlapped [since, now]; an agent step without a scope claims everything. */
  othersScopes(step: Step, since: number): string[][] {
    return this.spans
      .filter((x) => x.step !== step && (x.end === undefined || x.end >= since))
      .map((x) => (x.step.mayChangeAnything ? ["**"] : x.step.fileScope));
  }
}
