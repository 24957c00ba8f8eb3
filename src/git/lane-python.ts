import fs from "node:fs";
import path from "node:path";

/**
 * A Python project's code as its lane has it (issue 33). A maintainer's venv holds an editable
 * install of the project (`pip install -e .`): a `.pth` file, a setuptools `__editable__` finder
 * or hatchling's `.pth`, each naming the checkout's folders. Linked into a lane, that venv would
 * import the checkout's code, so a step would test what the user has, not what it wrote. Two
 * things, neither touching the user's venv:
 *
 * - `PYTHONPATH` starts with the lane's source roots (its `src/`, or what pyproject.toml or
 *   setup.cfg names as the package folder, else the project folder): found before site-packages.
 * - A `sitecustomize.py` of ws's, first on `PYTHONPATH`, that runs after site-packages' `.pth`
 *   files (site.py imports it last) and points every path they put on `sys.path` into the
 *   checkout at the lane's copy, and so do the maps of setuptools' and hatchling's editable
 *   finders, so a module the lane deleted is not found in the checkout either. Paths inside a
 *   virtual environment are left alone (the venv itself may live in the checkout). It then runs
 *   the next `sitecustomize` on the path, so one the user's Python has still runs.
 */

/** The lane's variables for a Python project: where the hook is, what it maps, the source roots. */
export interface PythonLane {
  /** Folders (relative to the project folder) put first on PYTHONPATH, in the lane. */
  roots: string[];
  /** The folder holding ws's sitecustomize.py. */
  hookDir: string;
}

/** Whether `projectDir` holds a Python project (what a build tool or pip would install). */
export function isPythonProject(projectDir: string): boolean {
  return ["pyproject.toml", "setup.py", "setup.cfg"].some((f) => fs.existsSync(path.join(projectDir, f)));
}

/**
 * Where the project's importable code lives, relative to the project folder: the folder its
 * configuration names (setuptools' `package-dir`/`where`, setup.cfg's `package_dir = =src`,
 * poetry's `from`, hatch's `packages`, pdm's `package-dir`) when it exists, else `src` when it
 * holds a package or module, else the project folder itself (a flat layout).
 */
export function pythonRoots(projectDir: string): string[] {
  const found = new Set<string>();
  for (const file of ["pyproject.toml", "setup.cfg"]) {
    const text = readText(path.join(projectDir, file));
    if (text !== undefined) for (const dir of namedRoots(text)) found.add(dir);
  }
  const roots = [...found].filter((dir) => isDir(path.join(projectDir, dir)));
  if (roots.length > 0) return roots;
  if (holdsPython(path.join(projectDir, "src"))) return ["src"];
  return ["."];
}

/** Folders a pyproject.toml or setup.cfg names for the package (a reading of the usual forms, not a TOML parser). */
export function namedRoots(text: string): string[] {
  const roots: string[] = [];
  const add = (dir: string | undefined) => {
    const clean = dir?.trim().replace(/^\.\//, "").replace(/\/+$/, "");
    if (clean && !clean.startsWith("/") && !clean.split("/").includes("..") && !roots.includes(clean)) roots.push(clean);
  };
  // setuptools: package-dir = {"" = "src"}; setup.cfg: package_dir = \n    = src
  for (const m of text.matchAll(/package[-_]dir\s*=\s*\{[^}]*?""\s*[=:]\s*"([^"]+)"/g)) add(m[1]);
  for (const m of text.matchAll(/package_dir\s*=\s*(?:\n\s*)?=\s*(\S+)/g)) add(m[1]);
  // pdm: package-dir = "src"
  for (const m of text.matchAll(/^\s*package-dir\s*=\s*"([^"]+)"/gm)) add(m[1]);
  // setuptools.packages.find: where = ["src"]; setup.cfg [options.packages.find] where = src
  for (const m of text.matchAll(/^\s*where\s*=\s*\[\s*"([^"]+)"/gm)) add(m[1]);
  for (const m of text.matchAll(/^\s*where\s*=\s*([A-Za-z0-9_./-]+)\s*$/gm)) add(m[1]);
  // poetry: packages = [{ include = "x", from = "src" }]
  for (const m of text.matchAll(/\bfrom\s*=\s*"([^"]+)"/g)) add(m[1]);
  // hatch: packages = ["src/textkit"] — the package's parent is what goes on the path
  for (const m of text.matchAll(/^\s*packages\s*=\s*\[([^\]]*)\]/gm)) {
    for (const item of (m[1] ?? "").matchAll(/"([^"]+)"/g)) {
      const dir = path.posix.dirname(item[1] ?? "");
      if (dir !== ".") add(dir);
    }
  }
  return roots;
}

/**
 * The variables of a process in a lane: PYTHONPATH is ws's hook, then the lane's source roots
 * (the step's or the run's own PYTHONPATH goes after them); WS_LANE_PYTHON tells the hook
 * which checkout to map to which lane and what to leave alone.
 */
export function pythonLaneEnv(lane: PythonLane, laneProjectDir: string, checkoutRoot: string, laneRoot: string, keep: string[]): Record<string, string> {
  const roots = lane.roots.map((r) => path.resolve(laneProjectDir, r));
  return {
    PYTHONPATH: [lane.hookDir, ...roots].join(path.delimiter),
    WS_LANE_PYTHON: [checkoutRoot, laneRoot, ...keep].join("\n"),
  };
}

/** Writes ws's sitecustomize.py into `hookDir` (when it differs): the run's own copy, outside every lane. */
export function writePythonHook(hookDir: string): void {
  const file = path.join(hookDir, "sitecustomize.py");
  if (readText(file) === HOOK) return;
  fs.mkdirSync(hookDir, { recursive: true });
  fs.writeFileSync(file, HOOK);
}

const HOOK = `# Written by ws (issue 33): in a lane, paths into the user's checkout point at the lane instead.
# It changes nothing on disk; it runs only where ws put its folder first on PYTHONPATH.
def _ws_lane():
    import os, sys
    spec = os.environ.get("WS_LANE_PYTHON", "").split("\\n")
    here = os.path.dirname(os.path.abspath(__file__))
    if len(spec) >= 2 and spec[0] and spec[1]:
        checkout, lane = spec[0], spec[1]
        froms = [checkout] + ([os.path.realpath(checkout)] if os.path.realpath(checkout) != checkout else [])
        keep = [p for p in spec[2:] if p] + [here, sys.prefix, sys.exec_prefix, sys.base_prefix]
        keep = keep + [os.path.realpath(p) for p in keep]

        def inside(p, top):
            return p == top or p.startswith(top.rstrip(os.sep) + os.sep)

        def moved(p):
            if not isinstance(p, str) or not p or any(inside(p, k) for k in keep):
                return p
            for c in froms:
                if inside(p, c):
                    return lane + p[len(c):]
            return p

        seen, path = set(), []
        for p in sys.path:
            q = moved(p)
            if q not in seen:
                seen.add(q)
                path.append(q)
        sys.path[:] = path
        # setuptools' editable finders (a module per install) and hatchling/editables' redirector.
        for name, mod in list(sys.modules.items()):
            if name.startswith("__editable__"):
                for attr in ("MAPPING", "NAMESPACES"):
                    table = getattr(mod, attr, None)
                    if isinstance(table, dict):
                        for k, v in list(table.items()):
                            table[k] = [moved(x) for x in v] if isinstance(v, list) else moved(v)
        for finder in sys.meta_path:
            table = getattr(finder, "_redirections", None)
            if isinstance(table, dict):
                for k, v in list(table.items()):
                    table[k] = moved(v)
    # The next sitecustomize on the path (the user's Python may have one) still runs. The import
    # system's own frozen modules, already loaded: importing importlib (warnings, contextlib, ...)
    # cost every Python process in a lane a few milliseconds.
    bootstrap = sys.modules.get("_frozen_importlib")
    external = sys.modules.get("_frozen_importlib_external")
    if bootstrap is None or external is None:
        import importlib._bootstrap as bootstrap, importlib._bootstrap_external as external
    rest = [p for p in sys.path if p and os.path.abspath(p) != here]
    spec2 = external.PathFinder.find_spec("sitecustomize", rest)
    if spec2 is not None and spec2.loader is not None:
        module = bootstrap.module_from_spec(spec2)
        sys.modules["sitecustomize"] = module
        spec2.loader.exec_module(module)


_ws_lane()
del _ws_lane
`;

function holdsPython(dir: string): boolean {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() && fs.existsSync(path.join(dir, e.name, "__init__.py"))) || (e.isFile() && e.name.endsWith(".py")) || (e.isDirectory() && !e.name.startsWith(".") && !e.name.endsWith(".egg-info")));
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
