import { describe, expect, it } from "vitest";
import { matchesScope, normalizeScopePattern, patternsOverlap } from "../../src/scope/patterns.js";

describe("patternsOverlap", () => {
  it.each([
    // literal vs literal
    ["src/a.ts", "src/a.ts", true],
    ["./src/a.ts", "src//a.ts", true],
    ["src/a.ts", "src/b.ts", false],
    ["src/utils", "src/utils/x.ts", false],
    ["src/utils/", "src/utils/x.ts", true],
    ["src/", "src/x.ts", true],
    ["src/util", "src/utils/x.ts", false],
    // literal vs glob
    ["src/a.ts", "src/*.ts", true],
    ["src/a.js", "src/*.ts", false],
    ["src/a/b.ts", "src/*.ts", false],
    ["src/a/b.ts", "src/**", true],
    ["src/a/b.ts", "**/*.ts", true],
    ["README.md", "src/**", false],
    [".github/ci.yml", "**/*.yml", true],
    ["src/a.ts", "src/{a,b}.ts", true],
    ["src/c.ts", "src/{a,b}.ts", false],
    ["lib/x.ts", "{src,lib}/**", true],
    ["docs/x.ts", "{src,lib}/**", false],
    ["src/utils", "src/*/x.ts", false],
    ["src/utils", "src/*", true],
    // glob vs glob
    ["src/**", "src/a/*.ts", true],
    ["src/*.ts", "test/*.ts", false],
    ["src/*.ts", "src/*.js", false],
    ["src/*.ts", "src/a*", true],
    ["src/a*", "src/b*", false],
    ["src/a*", "src/*b", true],
    ["**/*.ts", "src/**/*.js", false],
    ["**", "anything/at/all", true],
    ["src/**/test/*.ts", "src/a/b/**", true],
    ["src/*/x.ts", "src/*/y.ts", false],
    ["src/*/*", "src/a", false],
    ["src/*/*", "src/a/", true],
    ["src/mod1/**", "src/mod2/**", false],
    ["src/file{1..3}.ts", "src/file2.ts", true],
    ["!src/**", "src/a.ts", true],
    ["app/[id]/page.tsx", "app/[id]/page.tsx", true],
    ["app/[id]/page.tsx", "app/x/page.tsx", false],
  ] as const)("%s vs %s → %s", (a, b, expected) => {
    expect(patternsOverlap(a, b)).toBe(expected);
    expect(patternsOverlap(b, a)).toBe(expected);
  });
});

describe("matchesScope", () => {
  it.each([
    ["src/a.ts", ["src/*.ts"], true],
    ["src/a/b.ts", ["src/*.ts"], false],
    ["src/a/b.ts", ["src/**"], true],
    ["src/.env", ["src/*"], true],
    ["src/utils/deep/x.ts", ["src/utils"], false],
    ["src/utils/deep/x.ts", ["src/utils/"], true],
    ["src/utils", ["src/utils"], true],
    ["src/utilsx.ts", ["src/utils"], false],
    ["./src/a.ts", ["src/a.ts"], true],
    ["a.ts", [], false],
    ["../a.ts", ["**"], false],
    ["lib/x.js", ["src/**", "lib/*.js"], true],
    ["app/[id]/page.tsx", ["app/[id]/page.tsx"], true],
    ["app/i/page.tsx", ["app/[id]/page.tsx"], true],
    ["app/[id]/page.tsx", ["app/*/page.tsx"], true],
  ] as const)("%s in %j → %s", (file, patterns, expected) => {
    expect(matchesScope(file, [...patterns])).toBe(expected);
  });
});

describe("normalizeScopePattern", () => {
  it("normalizes and rejects paths outside the project", () => {
    expect(normalizeScopePattern("./src//a/./b.ts")).toBe("src/a/b.ts");
    expect(normalizeScopePattern("src/x/../y")).toBe("src/y");
    expect(normalizeScopePattern("src/")).toBe("src/**");
    expect(normalizeScopePattern(".")).toBe("**");
    expect(normalizeScopePattern("../x")).toBeUndefined();
    expect(normalizeScopePattern("src/../../x")).toBeUndefined();
    expect(normalizeScopePattern("/etc/passwd")).toBeUndefined();
    expect(normalizeScopePattern("C:\\x")).toBeUndefined();
  });
});
