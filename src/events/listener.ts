import type { RunState } from "../store/run-state.js";
import type { RunEvent } from "./run-event.js";

/**
 * A consumer of a run: the event log, the orchestrator log, the snapshot writer, the history,
 * the terminal, the reports. The engine hands every event, in order, to each listener of the
 * list it was given, with the run's state after that event (the fold of events.jsonl), and knows
 * none of them by name.
 */
export interface RunListener {
  /**
   * May answer with events of its own (a warning that it could not do its job); they are
   * delivered to every listener once this event has reached all of them. A throw fails the run
   * (the event log could not be written: nothing may run unrecorded).
   */
  onEvent(event: RunEvent, state: RunState): RunEvent[] | void;
  /**
   * Just before the run's last event (run-end): work that belongs to the run itself (recording
   * durations) and may answer with warnings, which then precede run-end in every listener.
   */
  ending?(state: RunState, at: string): RunEvent[] | void;
  /** After the last event: flush, write the report. Errors surface once every listener closed. */
  close?(): void | Promise<void>;
}
