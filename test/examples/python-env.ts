import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Python for the workflow stand-in (run-workflow.ts): what setup-python puts on the PATH, and the
 * machine's pip settings for jobs whose HOME is a temp folder.
 */

/** The machine's pip settings: its index mirror sits in the user's pip.conf, found before HOME moves. */
export function machinePipEnv(cacheDir: string): NodeJS.ProcessEnv {
  const conf = [path.join(os.homedir(), ".config/pip/pip.conf"), path.join(os.homedir(), ".pip/pip.conf")].find((f) => fs.existsSync(f));
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PIP_"))),
    ...(conf ? { PIP_CONFIG_FILE: conf } : {}),
    // pypi.org is out of reach here: fail over to the configured mirror at once.
    PIP_RETRIES: "0",
    PIP_CACHE_DIR: cacheDir,
  };
}

/** What setup-python does: that Python first on the PATH as `python` and `python3` (a folder under `root`). */
export function setupPythonIn(root: string): (version: string) => string {
  return (version) => {
    const real = execFileSync(`python${version}`, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
    const bin = path.join(root, `python-${version}`, "bin");
    if (!fs.existsSync(bin)) {
      fs.mkdirSync(bin, { recursive: true });
      for (const name of ["python", "python3"]) fs.symlinkSync(real, path.join(bin, name));
    }
    return bin;
  };
}
