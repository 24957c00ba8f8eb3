import type { RunEvent } from "../events/run-event.js";
import type { CircuitBreakerConfig } from "../workstream/model.js";
import { CircuitBreaker } from "./breaker.js";
import type { Gate } from "./scheduler.js";

/** The run's breakers, one per agent tool, created when a tool is first gated. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly config: CircuitBreakerConfig,
    private readonly now: () => number,
    private readonly emit: (event: RunEvent) => void,
  ) {}

  /** A failing shell command says nothing about "the shell": only agent tools get breakers. */
  private of(tool: string): CircuitBreaker | undefined {
    if (tool === "shell") return undefined;
    let breaker = this.breakers.get(tool);
    if (!breaker) {
      breaker = new CircuitBreaker(tool, this.config, this.now, (state, failures) =>
        this.emit({
          type: "breaker",
          at: new Date(this.now()).toISOString(),
          tool,
          state,
          failures,
          cooldownMs: state === "open" ? this.config.cooldown * 1000 : undefined,
        }),
      );
      this.breakers.set(tool, breaker);
    }
    return breaker;
  }

  /** The scheduler's gate: the token says whether the start is a half-open trial. */
  gate(tool: string): Gate {
    const breaker = this.of(tool);
    if (!breaker) return { ok: true };
    const gate = breaker.gate();
    return gate.ok ? { ok: true, token: gate.trial } : gate;
  }

  started(tool: string, trial: boolean): void {
    this.of(tool)?.started(trial);
  }

  record(tool: string, result: { toolFault: boolean; quota?: boolean | undefined }, trial: boolean): void {
    this.of(tool)?.record(result.toolFault, trial, result.quota);
  }

  isOpen(tool: string): boolean {
    return this.breakers.get(tool)?.current === "open";
  }
}
