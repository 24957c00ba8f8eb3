import { describe, expect, it } from "vitest";
import { simpleArgv } from "../../src/proc/simple-command.js";

const env = { PATH: "/usr/bin:/bin" };

describe("simpleArgv: command lines exec'd without a shell", () => {
  it.each([
    ["sleep 0.2", ["sleep", "0.2"]],
    ["  true  ", ["true"]],
    ["node --max-old-space-size=64 a/b.js x,y:z", ["node", "--max-old-space-size=64", "a/b.js", "x,y:z"]],
    [`ls 'it is' "a b" -l`, ["ls", "it is", "a b", "-l"]],
    [`grep 'a$|b;*' f`, ["grep", "a$|b;*", "f"]],
    ["/bin/sleep 1", ["/bin/sleep", "1"]],
  ])("%s → argv", (line, argv) => {
    // node is not in /usr/bin everywhere: resolve it through the PATH the test runs with.
    expect(simpleArgv(line, { PATH: `${env.PATH}:${process.env.PATH ?? ""}` })).toEqual(argv);
  });

  it.each([
    "echo $HOME", "a | b", "true; false", "true && false", "ls *.txt", "ls ~", "FOO=1 env", "cd /tmp", "echo hi",
    "exit 3", "ls a\\ b", "ls \"$x\"", "ls `pwd`", "true\nfalse", "ls a'b'", "sleep 1 &", "ls > f", "ls #c",
    "(true)", "{ true; }", "! true", "no-such-command-xyz", "/no/such/bin", "./local-script", "",
  ])("%j goes through /bin/sh", (line) => {
    expect(simpleArgv(line, env)).toBeUndefined();
  });
});
