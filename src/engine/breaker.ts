import type { BreakerState } from "../events/run-event.js";
import type { CircuitBreakerConfig } from "../workstream/model.js";

/**
 * One circuit breaker per tool per run (design §1). Only failures caused by the tool itself
 * (crash, timeout, API error, quota) count; an acceptance-test failure says nothing about the tool.
 *
 * closed --threshold consecutive failures--> open --cooldown elapsed--> half-open (one trial)
 * half-open --trial succeeds--> closed;  half-open --trial fails--> open (cooldown again)
 */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    readonly tool: string,
    private readonly config: CircuitBreakerConfig,
    private readonly now: () => number,
    private readonly onChange: (state: BreakerState, failures: number) => void,
  ) {}

  get current(): BreakerState {
    return this.state;
  }

  /** May a step of this tool start now? If not, how long until it should ask again. */
  gate(): { ok: true; trial: boolean } | { ok: false; retryInMs: number } {
    if (this.state === "closed") return { ok: true, trial: false };
    if (this.state === "open") {
      const wait = this.openedAt + this.config.cooldown * 1000 - this.now();
      if (wait > 0) return { ok: false, retryInMs: wait };
      this.transition("half-open");
    }
    // half-open: exactly one trial at a time.
    if (this.trialInFlight) return { ok: false, retryInMs: 250 };
    return { ok: true, trial: true };
  }

  /** Called when a gated step actually starts. */
  started(trial: boolean): void {
    if (trial) this.trialInFlight = true;
  }

  /**
   * Record the end of an attempt. `toolFault` false = the tool worked (whatever the tests said).
   * A quota / rate-limit answer opens the breaker at once: retrying before the cooldown only
   * spends more of the quota (tools.md: "the tool's queue pauses").
   */
  record(toolFault: boolean, trial: boolean, quota = false): void {
    if (trial) this.trialInFlight = false;
    if (!toolFault) {
      this.failures = 0;
      if (this.state !== "closed") this.transition("closed");
      return;
    }
    this.failures += 1;
    if (this.state === "half-open" || (this.state === "closed" && (quota || this.failures >= this.config.failureThreshold))) {
      this.openedAt = this.now();
      this.transition("open");
    }
  }

  private transition(state: BreakerState): void {
    this.state = state;
    this.onChange(state, this.failures);
  }
}
