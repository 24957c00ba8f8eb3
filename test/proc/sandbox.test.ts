import { describe, expect, it } from "vitest";
import { containLaunch } from "../../src/proc/containment.js";
import { sandboxLaunch } from "../../src/proc/sandbox.js";

describe("sandboxLaunch", () => {
  const launch = { command: "/bin/sh", args: ["-c", "make"], env: { PATH: "/bin" } };
  const options = { bwrap: "bwrap", writable: ["/p/.worktrees/w/tree", "/p/.worktrees/w/steps/s"], readable: ["/p"], network: false, cwd: "/p/.worktrees/w/tree/sub" };

  it("wraps argv in bwrap: read-only root, private /tmp, the project readable again, the worktree writable on top, then the command", () => {
    const out = sandboxLaunch(launch, options);
    expect(out.command).toBe("bwrap");
    expect(out.env).toBe(launch.env);
    const args = out.args.join(" ");
    expect(args).toContain("--ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --ro-bind /p /p --bind /p/.worktrees/w/tree /p/.worktrees/w/tree --bind /p/.worktrees/w/steps/s /p/.worktrees/w/steps/s");
    expect(out.args).toContain("--unshare-net");
    expect(out.args).toContain("--die-with-parent");
    expect(out.args.slice(-6)).toEqual(["--chdir", "/p/.worktrees/w/tree/sub", "--", "/bin/sh", "-c", "make"]);
  });

  it("keeps the network unless told otherwise, and carries the cookie through containLaunch", () => {
    expect(sandboxLaunch(launch, { ...options, network: true }).args).not.toContain("--unshare-net");
    const out = containLaunch(launch, { mark: "r:s:1", sandbox: options });
    expect(out.command).toBe("bwrap");
    expect(out.env).toMatchObject({ WS_ATTEMPT_COOKIE: "r:s:1" });
  });
});
