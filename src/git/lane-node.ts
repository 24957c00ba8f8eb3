import fs from "node:fs";
import path from "node:path";

/**
 * A lane's `node_modules` (issue 33): the checkout's packages, and the lane's own workspace
 * packages. One symlink to the checkout's `node_modules` would do for the packages, but a
 * workspace package is itself a link in there (`node_modules/@app/core -> ../../packages/core`),
 * which, read through the checkout's folder, resolves to the checkout's `packages/core`: a step
 * would import the code it did not write. NODE_PATH cannot help (Node reads it only when no
 * `node_modules` has the name), nor `--preserve-symlinks` (the files are still read through the
 * checkout). So the lane gets a real `node_modules` folder whose entries are links: a package
 * folder links to the checkout's (shared, read-only use), a link is made again with the same
 * relative target, which then resolves inside the lane (its workspace package, or pnpm's
 * `.pnpm` store, itself linked), and scopes (`@app/`) and `.bin/` are folders made the same way.
 * A workspace package's own `node_modules` in the checkout (pnpm keeps one per package) is given
 * to the lane's copy of that package the same way. Made again only where it differs: a lane
 * reused by the next run costs a read of each folder. Links are slow to make on a busy disk
 * (~0.6 ms each measured here, 1 800 entries ≈ 1 s a lane; ~70 ms to check them again), so a
 * `node_modules` with no workspace package in it is one link, as before (see needsFarm).
 */
export function farmNodeModules(checkoutRoot: string, laneRoot: string, rel: string): void {
  const packages = new Set<string>();
  farm(path.join(checkoutRoot, rel), path.join(laneRoot, rel), { checkoutRoot, laneRoot, packages });
  for (const pkg of packages) {
    const own = path.join(pkg, "node_modules");
    const ownRel = path.relative(checkoutRoot, own);
    if (isRealDir(own) && fs.existsSync(path.join(laneRoot, path.relative(checkoutRoot, pkg)))) farm(own, path.join(laneRoot, ownRel), { checkoutRoot, laneRoot, packages: new Set() });
  }
}

/**
 * Whether the lane needs a folder of links rather than one link: the checkout's node_modules links
 * into the checkout outside node_modules (a workspace package), or the lane has such a folder
 * already (made by an earlier run: it is kept up to date, never replaced). Reads the top folder
 * and its scopes only.
 */
export function needsFarm(checkoutRoot: string, laneRoot: string, rel: string): boolean {
  if (isRealDir(path.join(laneRoot, rel))) return true;
  const top = path.join(checkoutRoot, rel);
  const links = (dir: string): boolean => {
    for (const entry of readEntries(dir)) {
      if (entry.isSymbolicLink()) {
        const resolved = path.resolve(dir, fs.readlinkSync(path.join(dir, entry.name)));
        if (resolved.startsWith(checkoutRoot + path.sep) && !resolved.split(path.sep).includes("node_modules")) return true;
      } else if (dir === top && entry.isDirectory() && entry.name.startsWith("@") && links(path.join(dir, entry.name))) return true;
    }
    return false;
  };
  return links(top);
}

function readEntries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

interface Farm {
  checkoutRoot: string;
  laneRoot: string;
  /** Workspace packages found (absolute, in the checkout): links leading out of node_modules into the checkout. */
  packages: Set<string>;
}

function farm(from: string, to: string, f: Farm, depth = 0): void {
  const existing = fs.lstatSync(to, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) fs.rmSync(to);
  else if (existing !== undefined && !existing.isDirectory()) return;
  fs.mkdirSync(to, { recursive: true });
  const wanted = new Set<string>();
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    wanted.add(entry.name);
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory() && depth === 0 && (entry.name.startsWith("@") || entry.name === ".bin")) {
      farm(source, target, f, depth + 1);
      continue;
    }
    const link = entry.isSymbolicLink() ? relink(source, f) : source;
    placeLink(target, link);
  }
  // What the checkout no longer has goes (only links: a real file a step made stays).
  for (const name of fs.readdirSync(to)) {
    if (!wanted.has(name) && fs.lstatSync(path.join(to, name)).isSymbolicLink()) fs.rmSync(path.join(to, name));
  }
}

/** The target a link of the checkout's node_modules gets in the lane: relative stays relative (it
 *  resolves inside the lane), an absolute one into the checkout outside node_modules moves to the lane. */
function relink(source: string, f: Farm): string {
  const text = fs.readlinkSync(source);
  const resolved = path.resolve(path.dirname(source), text);
  const inCheckout = resolved.startsWith(f.checkoutRoot + path.sep);
  const inModules = resolved.split(path.sep).includes("node_modules");
  if (inCheckout && !inModules) f.packages.add(resolved);
  if (!path.isAbsolute(text)) return text;
  return inCheckout && !inModules ? path.join(f.laneRoot, path.relative(f.checkoutRoot, resolved)) : text;
}

function placeLink(target: string, link: string): void {
  const here = fs.lstatSync(target, { throwIfNoEntry: false });
  if (here?.isSymbolicLink()) {
    if (fs.readlinkSync(target) === link) return;
    fs.rmSync(target);
  } else if (here !== undefined) return; // a real file or folder a step made: left as it is
  fs.symlinkSync(link, target);
}

function isRealDir(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
