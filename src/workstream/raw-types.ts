/**
 * The file format as written (snake_case), once the schema has accepted it. Only the loader sees
 * these; everything else uses the normalized model in model.ts.
 */

export interface RawAcceptanceTest {
  run: string;
  timeout?: number;
}

export interface RawBudget {
  max_cost_usd?: number;
  max_tokens?: number;
  max_turns?: number;
}

export interface RawStep {
  id: string;
  description?: string;
  tool?: string | string[];
  budget?: RawBudget;
  tasks?: string[];
  run?: string;
  file_scope?: string[];
  read_only?: string[];
  artifacts?: string[];
  depends_on?: string[];
  timeout?: number;
  retries?: number;
  retry_delay?: number;
  retry_backoff?: number;
  retry_delay_max?: number;
  weight?: number;
  acceptance_tests?: Array<string | RawAcceptanceTest>;
  when?: string | boolean;
  env?: Record<string, string>;
  inherit_env?: string[];
  model?: string;
  run_if?: "success" | "failure" | "always" | "success_or_skipped";
  compensate?: string | { run?: string; timeout?: number; tool?: string; tasks?: string[] };
  approval?: true | { prompt?: string; timeout?: number; environment?: string; on_reject?: "hold" | "fail" };
}

/** Values may still be `${env...}` strings here. */
export type RawExecution = Partial<Record<"parallel" | "max_workers" | "timeout_per_step" | "rate_limit_delay" | "on_failure" | "compensation" | "file_conflicts" | "isolation" | "sandbox" | "adaptive_scaling", unknown>>;

export interface RawWorkstream {
  id: string;
  name?: string;
  description?: string;
  execution?: RawExecution;
  inherit_env?: string[];
  defaults?: { tool?: string; model?: string; retries?: number; timeout?: number; retry_delay?: number; retry_backoff?: number; retry_delay_max?: number };
  circuit_breaker?: { failure_threshold?: number; cooldown?: number; max_wait?: number; network_wait?: number; per?: "tool" | "step" };
  worktree?: { copy?: string[]; link?: string[]; setup?: string };
  ci?: { setup?: string | Array<Record<string, unknown>> };
  budget?: RawBudget;
  tools?: Record<string, { command: string; args?: string[]; env?: Record<string, string> }>;
  steps: RawStep[];
  step_groups?: Array<{ id: string; steps: string[]; execute?: "parallel" | "sequential"; max_workers?: number; succeed?: "all" | "any"; cancel_rest?: boolean; timeout?: number }>;
}
