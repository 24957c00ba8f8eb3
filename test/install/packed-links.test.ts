import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * What `npm pack` ships is what a user who installed the tarball reads: every relative link in
 * the packed README and docs must name a file in the tarball (npm's package page and an editor
 * opening node_modules/ws-orchestrator/README.md resolve them against the package, not a clone).
 * A dry run lists the files without building (`--ignore-scripts`: dist is built before tests).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function packedFiles(): Set<string> {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel=error"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return new Set(pack!.files.map((f) => f.path));
}

/** Relative targets of Markdown links and images, without their #fragment. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#")).map((t) => t.replace(/#.*$/, ""));
}

describe("the packed package", () => {
  const files = packedFiles();
  const shipped = (target: string) => files.has(target) || [...files].some((f) => f.startsWith(target.replace(/\/?$/, "/")));

  it("holds every file that its README and docs link to", () => {
    const docs = [...files].filter((f) => f === "README.md" || (f.startsWith("docs/") && f.endsWith(".md")));
    expect(docs).toContain("README.md");
    expect(docs.length).toBeGreaterThan(1);
    const missing: string[] = [];
    for (const doc of docs) {
      for (const link of relativeLinks(fs.readFileSync(path.join(ROOT, doc), "utf8"))) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(doc), link));
        if (!shipped(target)) missing.push(`${doc} → ${link}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("README tells to install the dev dependencies before packing (packing builds ws with tsc)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const packs = [...readme.matchAll(/`([^`]*npm pack[^`]*)`/g)].map((m) => m[1]!);
    expect(packs.length).toBeGreaterThan(0);
    for (const command of packs) expect(command).toMatch(/npm (install|ci) && npm pack/);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.prepare).toContain("build");
  });
});
