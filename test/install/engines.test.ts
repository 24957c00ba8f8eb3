import fs from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

/**
 * What `npm install` resolves from the committed lockfile: every package, dev ones included (a
 * clone installs them to build ws and run its tests), must say it runs on the Node ws supports,
 * or npm prints an EBADENGINE warning per package on a newcomer's first command (mermaid 12
 * asked for Node 22.12 and brought three more). And npm 11 skips a dependency's install script it
 * was not told about, with a warning: each one is named in package.json's allowScripts.
 */
const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(fs.readFileSync(new URL("package.json", root), "utf8")) as { engines: { node: string }; allowScripts?: Record<string, boolean> };
const lock = JSON.parse(fs.readFileSync(new URL("package-lock.json", root), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; hasInstallScript?: boolean; optional?: boolean; os?: string[] }>;
};
const installed = Object.entries(lock.packages).filter(([where]) => where !== "");
const nameOf = (where: string) => where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);

describe("the lockfile", () => {
  const floor = semver.minVersion(pkg.engines.node)!.version;
  it.each([floor, "24.0.0"])("holds only packages that run on Node %s", (version) => {
    const refusing = installed
      .map(([where, entry]) => ({ name: nameOf(where), version: entry.version, node: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter((p) => p.node !== undefined && !semver.satisfies(version, p.node));
    expect(refusing).toEqual([]);
  });

  it("names every install script it holds in allowScripts", () => {
    const scripted = [...new Set(installed.filter(([, entry]) => entry.hasInstallScript).map(([where]) => nameOf(where)))];
    expect(scripted.length).toBeGreaterThan(0);
    expect(scripted.filter((name) => pkg.allowScripts?.[name] === undefined)).toEqual([]);
  });
});
