/**
 * What a model costs, for the CLIs that stream tokens but no cost (Claude Code until its final
 * result, Codex, Gemini CLI): ws turns their tokens into dollars so `max_cost_usd` can stop an
 * attempt while it runs. A CLI's own figure always wins over this table (aider's "Cost: $x
 * session", Claude's `total_cost_usd`).
 *
 * USD per million tokens, list prices for the standard tier, as published on 2026-12-01:
 *  - Anthropic: docs.anthropic.com/en/docs/about-claude/pricing (cache reads at 0.1 x input,
 *    5-minute cache writes at 1.25 x input, as that page states);
 *  - OpenAI: platform.openai.com/docs/pricing ("cached input" column);
 *  - Google: ai.google.dev/gemini-api/docs/pricing (Gemini 2.5 Pro: the prompts <= 200k tokens row).
 * The same figures are in LiteLLM's model_prices_and_context_window.json, which aider reads.
 * A model missing here gets no estimate (no cost, only tokens): a wrong price would stop a step
 * that is within its budget.
 */
export interface Price {
  input: number;
  output: number;
  /** Input read from the provider's prompt cache; `input` when the provider has no such rate. */
  cachedInput: number;
  /** Input written to the cache (Anthropic charges it above `input`); `input` otherwise. */
  cacheWrite?: number;
}

/** Keys are model-name prefixes; the longest that matches wins (dated ids, `-latest`, `-preview-…`). */
export const PRICES: Readonly<Record<string, Price>> = {
  "claude-opus-4-5": { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  "claude-opus-4": { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  "claude-sonnet-4": { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  "claude-3-7-sonnet": { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  "claude-haiku-4-5": { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  "claude-3-5-haiku": { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
  "gpt-5-mini": { input: 0.25, output: 2, cachedInput: 0.025 },
  "gpt-5-nano": { input: 0.05, output: 0.4, cachedInput: 0.005 },
  "gpt-5": { input: 1.25, output: 10, cachedInput: 0.125 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6, cachedInput: 0.1 },
  "gpt-4.1": { input: 2, output: 8, cachedInput: 0.5 },
  "gpt-4o-mini": { input: 0.15, output: 0.6, cachedInput: 0.075 },
  "gpt-4o": { input: 2.5, output: 10, cachedInput: 1.25 },
  "o4-mini": { input: 1.1, output: 4.4, cachedInput: 0.275 },
  "o3": { input: 2, output: 8, cachedInput: 0.5 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cachedInput: 0.125 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4, cachedInput: 0.01 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cachedInput: 0.03 },
};

/** Prefixes longest first, so `gpt-5-mini` is found before `gpt-5`. */
const PREFIXES = Object.keys(PRICES).sort((a, b) => b.length - a.length);

/** The price of a model by name (a provider prefix like `openai/` or `models/` is ignored). */
export function priceOf(model: string | undefined): Price | undefined {
  if (model === undefined) return undefined;
  const name = model.toLowerCase().replace(/^.*\//, "");
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined ? undefined : PRICES[prefix];
}

/** Tokens of one or more calls, split the way providers price them. */
export interface TokenCounts {
  /** Uncached input. */
  input: number;
  cachedInput?: number;
  cacheWrite?: number;
  output: number;
}

/** The cost of `tokens` on `model`, or undefined when the table does not know the model. */
export function costOf(model: string | undefined, tokens: TokenCounts): number | undefined {
  const price = priceOf(model);
  if (!price) return undefined;
  const perToken = 1e-6;
  return (
    (tokens.input * price.input + (tokens.cachedInput ?? 0) * price.cachedInput + (tokens.cacheWrite ?? 0) * (price.cacheWrite ?? price.input) + tokens.output * price.output) * perToken
  );
}
