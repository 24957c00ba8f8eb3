import type { RunListener } from "../events/listener.js";
import type { RunEvent } from "../events/run-event.js";
import { applyEvent, type RunState } from "../store/run-state.js";

/** Folds each event into the run's state and hands both to every listener, in list order. */
export class Dispatcher {
  constructor(
    private readonly listeners: readonly RunListener[],
    /** The state a resumed run continues; the fold of a fresh run starts at its run-start. */
    private current: RunState | undefined,
  ) {}

  get state(): RunState | undefined {
    return this.current;
  }

  emit = (event: RunEvent): void => {
    const state = applyEvent(this.current, event);
    this.current = state;
    if (!state) return;
    const answers: RunEvent[] = [];
    for (const listener of this.listeners) {
      const more = listener.onEvent(event, state);
      if (more) answers.push(...more);
    }
    for (const answer of answers) this.emit(answer);
  };

  /** Right before run-end: each listener's last word, delivered to all as events. */
  ending(at: string): void {
    const state = this.current;
    if (!state) return;
    const answers: RunEvent[] = [];
    for (const listener of this.listeners) {
      const more = listener.ending?.(state, at);
      if (more) answers.push(...more);
    }
    for (const answer of answers) this.emit(answer);
  }

  /** Closes every listener even when one fails, then throws the first failure. */
  async close(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const listener of this.listeners) {
      try {
        await listener.close?.();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
