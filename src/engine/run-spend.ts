import { addUsage, type Usage } from "../events/usage.js";
import type { Budget } from "../workstream/model.js";

/** "$0.0312 is over the step's budget of $0.02 (by $0.0112, 56 %)": how far past a limit went. */
function over(what: string, used: number, limit: number, unit: (n: number) => string): string {
  const by = used - limit;
  const share = limit > 0 ? ` ${Math.round((by / limit) * 100)} %` : "";
  return `${unit(used)} is over ${what} of ${unit(limit)} (by ${unit(by)},${share})`;
}

const dollars = (n: number) => `$${n.toFixed(4)}`;
const tokens = (n: number) => `${Math.round(n)} tokens`;
const turns = (n: number) => `${n} turns`;

/** Why `used` is past `budget`, or undefined while within it. `whose`: "the step's budget", "the workstream's budget". */
export function pastBudget(budget: Budget, used: Usage | undefined, whose: string): string | undefined {
  const u = used ?? {};
  const cost = u.costUsd ?? 0;
  if (budget.maxCostUsd !== undefined && cost > budget.maxCostUsd) return over(whose, cost, budget.maxCostUsd, dollars);
  const total = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  if (budget.maxTokens !== undefined && total > budget.maxTokens) return over(whose, total, budget.maxTokens, tokens);
  if (budget.maxTurns !== undefined && (u.turns ?? 0) > budget.maxTurns) return over(whose, u.turns ?? 0, budget.maxTurns, turns);
  return undefined;
}

export function hasLimit(budget: Budget): boolean {
  return budget.maxCostUsd !== undefined || budget.maxTokens !== undefined || budget.maxTurns !== undefined;
}

/**
 * What the whole run has spent: the attempts that ended, plus what each running attempt has
 * streamed so far. The run's budget stops a running attempt once the sum is past it, not only
 * the next step's start: several agents at once can overspend it together.
 */
export class RunSpend {
  private ended: Usage | undefined;
  private readonly running = new Map<string, Usage>();
  /** How to stop each running attempt that watches the run's budget (a quiet one prints no line to check on). */
  private readonly stoppers = new Map<string, (why: string) => void>();

  constructor(readonly budget: Budget) {}

  /** A running attempt's usage so far (replaces what it reported before). */
  live(step: string, usage: Usage | undefined): void {
    if (usage) this.running.set(step, usage);
  }

  /** A running attempt can be stopped with `stop` once the run is past its budget; the returned function forgets it. */
  watch(step: string, stop: (why: string) => void): () => void {
    this.stoppers.set(step, stop);
    return () => {
      if (this.stoppers.get(step) === stop) this.stoppers.delete(step);
    };
  }

  /**
   * Why the run is past its budget, or undefined; past it, every other running attempt is
   * stopped too, each with the same reason: together they spent it, and an agent that is
   * thinking (no line for a minute) would otherwise spend on until its next line.
   */
  check(step: string): string | undefined {
    const why = this.pastBudget();
    if (why === undefined) return undefined;
    for (const [other, stop] of [...this.stoppers]) if (other !== step) stop(why);
    return why;
  }

  /** An attempt ended with `usage` (its final figure replaces its streamed one). */
  settle(step: string, usage: Usage | undefined): void {
    this.running.delete(step);
    this.ended = addUsage(this.ended, usage);
  }

  /** The attempts that ended (a step that has not started yet may only start while this is within the budget). */
  get spent(): Usage | undefined {
    return this.ended;
  }

  total(): Usage | undefined {
    let sum = this.ended;
    for (const usage of this.running.values()) sum = addUsage(sum, usage);
    return sum;
  }

  /** Why the run is past its budget counting the running attempts, or undefined. */
  pastBudget(): string | undefined {
    return hasLimit(this.budget) ? pastBudget(this.budget, this.total(), "the workstream's budget") : undefined;
  }
}
