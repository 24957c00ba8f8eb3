import type { BreakerState } from "../events/run-event.js";
import type { CircuitBreakerConfig } from "../workstream/model.js";

/**
 * One circuit breaker per tool per run (design §1), or per step with circuit_breaker.per "step". Only failures caused by the tool itself
 * (crash, timeout, API error, quota) count; an acceptance-test failure says nothing about the tool.
 *
 * closed --threshold consecutive failures--> open --cooldown elapsed--> half-open (one trial)
 * half-open --trial succeeds--> closed;  half-open --trial fails--> open (cooldown again)
 */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private failures = 0;
  /** When an open breaker lets a trial through: the cooldown, or the reset time a quota answer gave. */
  private reopenAt = 0;
  /** The breaker is open because of a quota answer (parked), not a run of failures. */
  private quotaOpen = false;
  private trialInFlight = false;

  constructor(
    readonly tool: string,
    private readonly config: Omit<CircuitBreakerConfig, "per" | "networkWait">,
    private readonly now: () => number,
    private readonly onChange: (state: BreakerState, failures: number, reopenAt: number | undefined) => void,
  ) {}

  get current(): BreakerState {
    return this.state;
  }

  /** May a step of this tool start now? If not, how long until it should ask again. */
  gate(): { ok: true; trial: boolean } | { ok: false; retryInMs: number } {
    if (this.state === "closed") return { ok: true, trial: false };
    if (this.state === "open") {
      const wait = this.reopenAt - this.now();
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

  /** While open: when the next trial may start (epoch ms). */
  get openUntil(): number | undefined {
    return this.state === "open" ? this.reopenAt : undefined;
  }

  get parked(): boolean {
    return this.state === "open" && this.quotaOpen;
  }

  /**
   * Record the end of an attempt. `toolFault` false = the tool worked (whatever the tests said).
   * A quota / rate-limit answer opens the breaker at once: retrying before the reset only spends
   * more of the quota (tools.md: "the tool's queue pauses"). It stays open until the reset time
   * the tool gave (`quota.until`), else for the cooldown.
   */
  record(toolFault: boolean, trial: boolean, quota?: { until?: number | undefined }): void {
    if (trial) this.trialInFlight = false;
    if (!toolFault) {
      this.failures = 0;
      if (this.state !== "closed") this.transition("closed");
      return;
    }
    this.failures += 1;
    const reopenAt = quota?.until ?? this.now() + this.config.cooldown * 1000;
    if (this.state === "half-open" || (this.state === "closed" && (quota !== undefined || this.failures >= this.config.failureThreshold))) {
      this.reopenAt = reopenAt;
      this.quotaOpen = quota !== undefined;
      this.transition("open");
    } else if (this.state === "open" && quota !== undefined && reopenAt > this.reopenAt) {
      // Another step of the tool, started before the breaker opened, learned a later reset time.
      this.reopenAt = reopenAt;
      this.transition("open");
    }
  }

  private transition(state: BreakerState): void {
    this.state = state;
    this.onChange(state, this.failures, state === "open" ? this.reopenAt : undefined);
  }
}
