import { describe, expect, it } from "vitest";
import { looksLikeQuota } from "../../src/tools/quota.js";

describe("looksLikeQuota", () => {
  it.each([
    "Error: 429 Too Many Requests",
    "HTTP 429",
    '{"error":{"code": 429, "status": "RESOURCE_EXHAUSTED"}}',
    "Attempt 1 failed with status 429. Retrying with backoff...",
    "This request would exceed the rate limit for your organization",
    "You are being rate-limited",
    "rate_limit_error",
    "litellm.RateLimitError: AnthropicException",
    "You exceeded your current quota, please check your plan and billing details.",
    "Quota exceeded for quota metric 'Generate Content API requests per minute'",
    "insufficient_quota",
    "TerminalQuotaError: You have exhausted your capacity",
    "Claude AI usage limit reached|1795000000",
    "You've hit your usage limit. Upgrade to Pro",
    "first line is fine\nsecond line: rate limited",
  ])("recognises %j", (text) => {
    expect(looksLikeQuota(text)).toBe(true);
  });

  it.each([
    "Traceback: File \"app/quota.py\", line 12",
    "modified: src/rate_limit/bucket.ts",
    "import { checkQuota } from './quota-service'",
    "see docs/usage-limits.md",
    "error at line 429 of parser.c",
    "processed 1429 records",
    "AssertionError: expected 4 but got 5",
    "",
  ])("does not flag %j", (text) => {
    expect(looksLikeQuota(text)).toBe(false);
  });
});
