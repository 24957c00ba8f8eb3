#!/usr/bin/env python3
"""Writes a project's uv.lock (uv's lock format, version 1) from a folder of wheels.

uv cannot be installed on the machines this project is built on (it is on no registry they
reach), but the example examples/python-ci must commit a real uv.lock. This resolves the
project's `[project] dependencies` and `[dependency-groups]` against the wheels in a local mirror
of PyPI (default /opt/pypi/files), the way `uv lock` resolves one universal graph: one version
per package, the newest one the mirror holds that every requirement on it admits and whose
Requires-Python admits the project's whole range, with each edge's marker kept (translated to
uv's `python_full_version` form, and dropped or removed where the project's requires-python
decides it).

Every file entry is a real PyPI file: its sha256 and size are the mirror file's, its URL is
where PyPI serves it (files.pythonhosted.org/packages/<blake2b-256 of the file, split 2/2/60>/
<filename>). Unlike `uv lock`, it lists only the files the mirror holds (here: the CPython 3.11
x86_64 Linux wheels and the pure-Python ones), so the lock installs on such a machine (GitHub's
ubuntu-latest with Python 3.11) and not, say, on macOS; and no upload-time (the mirror does not
say it), which is why the lock says revision 1, the format before upload times.

    python3 scripts/uv-lock-from-mirror.py examples/python-ci [--mirror DIR] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # pip's own copy, on a Python without packaging installed
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]
    from pip._vendor.packaging.version import Version  # type: ignore[no-redef]

REGISTRY = "https://pypi.org/simple"
FILES = "https://files.pythonhosted.org/packages"


class Dist:
    """One release in the mirror: its wheels and what its metadata requires."""

    def __init__(self, name: str, version: Version) -> None:
        self.name = name
        self.version = version
        self.wheels: list[Path] = []
        self.requires_python = SpecifierSet()
        self.requires: list[Requirement] = []


def scan(mirror: Path) -> dict[str, dict[Version, Dist]]:
    found: dict[str, dict[Version, Dist]] = {}
    for wheel in sorted(mirror.glob("*.whl")):
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        dist = found.setdefault(name, {}).setdefault(version, Dist(name, version))
        if not dist.wheels:
            with zipfile.ZipFile(wheel) as z:
                meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
                meta = HeaderParser().parsestr(z.read(meta_name).decode("utf-8"))
            dist.requires_python = SpecifierSet(meta.get("Requires-Python", "") or "")
            dist.requires = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
        dist.wheels.append(wheel)
    return found


def lower_bound(requires_python: str) -> Version:
    match = re.search(r">=\s*([\d.]+)", requires_python)
    if not match:
        sys.exit(f"uv-lock-from-mirror: requires-python {requires_python!r} has no lower bound (>=X.Y)")
    return Version(match.group(1))


def admits_range(spec: SpecifierSet, low: Version) -> bool:
    """Whether a release's Requires-Python admits every Python from `low` on (uv's rule)."""
    return all(spec.contains(str(v), prereleases=True) for v in (low, Version("3.99")))


# --- markers ---------------------------------------------------------------------------------
# A marker here is an `and` of atoms, each a string in uv's spelling. Python-version atoms are
# judged against the project's range: always true ones are dropped, an always false one drops the
# edge. That is all these packages' markers need; anything else (an `or`) is kept as written.

PY_ATOM = re.compile(r"^(python_version|python_full_version)\s*(<=|>=|==|!=|<|>)\s*['\"]([\d.*]+)['\"]$")


def next_minor(v: str) -> str:
    major, minor = v.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def uv_atom(atom: str) -> str:
    """`python_version < "3.11"` → `python_full_version < '3.11'`, as uv writes it."""
    m = PY_ATOM.match(atom)
    if not m:
        return atom.replace('"', "'")
    var, op, v = m.groups()
    if var == "python_version":
        if op == "<=":
            op, v = "<", next_minor(v)
        elif op == ">":
            op, v = ">=", next_minor(v)
        elif op in ("==", "!="):
            v = f"{v}.*"
    return f"python_full_version {op} '{v}'"


def judge(atom: str, low: Version) -> bool | None:
    """True or False when every Python from `low` on decides the atom the same way, else None."""
    m = PY_ATOM.match(atom)
    if not m or "*" in m.group(3):
        return None
    op, v = m.group(2), Version(m.group(3))
    if op in ("<", "<="):
        return False if low >= v and not (op == "<=" and low == v) else None
    if op in (">", ">="):
        return True if low > v or (op == ">=" and low == v) else None
    return None


def edge_marker(req: Requirement, low: Version) -> tuple[bool, str | None]:
    """(kept, marker) of a Requires-Dist line for the lock; extras' lines are not kept."""
    if req.marker is None:
        return True, None
    text = str(req.marker)
    if "extra" in text:
        return False, None
    if " or " in text:
        return True, text.replace('"', "'")
    atoms = [uv_atom(a.strip().strip("()")) for a in text.split(" and ")]
    kept: list[str] = []
    for atom in atoms:
        verdict = judge(atom, low)
        if verdict is False:
            return False, None
        if verdict is None:
            kept.append(atom)
    return True, " and ".join(kept) or None


def merge(markers: list[str | None]) -> str | None:
    """One edge per dependency: no marker when one of its lines has none or they cover every Python."""
    if None in markers:
        return None
    unique = sorted(set(m for m in markers if m is not None))
    pys = [PY_ATOM.match(m) for m in unique]
    if len(unique) == 2 and all(pys):
        (a, b) = pys  # e.g. < '3.15' and >= '3.15'
        if a and b and a.group(3) == b.group(3) and {a.group(2), b.group(2)} == {"<", ">="}:
            return None
    return " or ".join(unique)


# --- resolution ------------------------------------------------------------------------------


def resolve(roots: list[Requirement], mirror: dict[str, dict[Version, Dist]], low: Version) -> dict[str, Dist]:
    """Newest admissible release of each reachable package. The requirements found on a walk are
    kept for the next one, which starts afresh (no package of a dropped choice stays), until a
    walk changes no choice."""
    specs: dict[str, SpecifierSet] = {}
    while True:
        chosen: dict[str, Dist] = {}
        queue = [r for r in roots if edge_marker(r, low)[0]]
        changed = False
        while queue:
            req = queue.pop(0)
            name = canonicalize_name(req.name)
            specs[name] = specs.get(name, SpecifierSet()) & req.specifier
            releases = mirror.get(name)
            if not releases:
                sys.exit(f"uv-lock-from-mirror: the mirror has no wheel of {name} (required as {req})")
            fits = [d for v, d in sorted(releases.items(), reverse=True) if v in specs[name] and admits_range(d.requires_python, low)]
            if not fits:
                sys.exit(f"uv-lock-from-mirror: no release of {name} in the mirror fits {specs[name]} and Python >= {low}")
            if chosen.get(name) is fits[0]:
                continue
            changed = changed or name in chosen
            chosen[name] = fits[0]
            queue.extend(r for r in fits[0].requires if edge_marker(r, low)[0])
        if not changed:
            return chosen


def dependencies(reqs: list[Requirement], low: Version) -> list[tuple[str, str | None]]:
    by_name: dict[str, list[str | None]] = {}
    for req in reqs:
        kept, marker = edge_marker(req, low)
        if kept:
            by_name.setdefault(canonicalize_name(req.name), []).append(marker)
    return sorted((name, merge(markers)) for name, markers in by_name.items())


# --- writing ---------------------------------------------------------------------------------


def quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dep_line(name: str, marker: str | None, extra: str = "") -> str:
    return "    { name = " + quoted(name) + (f", marker = {quoted(marker)}" if marker else "") + extra + " },"


def file_entry(path: Path) -> str:
    data = path.read_bytes()
    blake = hashlib.blake2b(data, digest_size=32).hexdigest()
    url = f"{FILES}/{blake[:2]}/{blake[2:4]}/{blake[4:]}/{path.name}"
    return "{ url = " + quoted(url) + f', hash = "sha256:{hashlib.sha256(data).hexdigest()}", size = {len(data)} }}'


def specifier_entry(req: Requirement) -> str:
    name = canonicalize_name(req.name)
    marker = edge_marker(req, Version("0"))[1] if req.marker else None
    parts = [f"name = {quoted(name)}"]
    if marker:
        parts.append(f"marker = {quoted(marker)}")
    if str(req.specifier):
        parts.append(f"specifier = {quoted(str(req.specifier))}")
    return "{ " + ", ".join(parts) + " }"


def render(project: dict, groups: dict[str, list[Requirement]], deps: list[Requirement], chosen: dict[str, Dist], low: Version) -> str:
    requires_python = project["requires-python"]
    name = canonicalize_name(project["name"])
    out = ["version = 1", "revision = 1", f"requires-python = {quoted(requires_python)}", ""]
    packages: list[tuple[str, list[str]]] = []
    own = ["[[package]]", f"name = {quoted(name)}", f"version = {quoted(project['version'])}", 'source = { editable = "." }']
    if deps:
        own += ["dependencies = ["] + [dep_line(n, m) for n, m in dependencies(deps, low)] + ["]"]
    if groups:
        own += ["", "[package.dev-dependencies]"]
        for group, reqs in sorted(groups.items()):
            own += [f"{group} = ["] + [dep_line(n, m) for n, m in dependencies(reqs, low)] + ["]"]
    own += ["", "[package.metadata]"]
    if deps:
        own.append("requires-dist = [" + ", ".join(specifier_entry(r) for r in sorted(deps, key=lambda r: canonicalize_name(r.name))) + "]")
    if groups:
        own += ["", "[package.metadata.requires-dev]"]
        for group, reqs in sorted(groups.items()):
            entries = [specifier_entry(r) for r in sorted(reqs, key=lambda r: canonicalize_name(r.name))]
            own += [f"{group} = ["] + [f"    {e}," for e in entries] + ["]"]
    packages.append((name, own))
    for dist in chosen.values():
        lines = ["[[package]]", f"name = {quoted(dist.name)}", f"version = {quoted(str(dist.version))}", f"source = {{ registry = {quoted(REGISTRY)} }}"]
        deps_of = dependencies(dist.requires, low)
        if deps_of:
            lines += ["dependencies = ["] + [dep_line(n, m) for n, m in deps_of] + ["]"]
        lines += ["wheels = ["] + [f"    {file_entry(w)}," for w in sorted(dist.wheels)] + ["]"]
        packages.append((dist.name, lines))
    for _name, lines in sorted(packages):
        out += lines + [""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--mirror", type=Path, default=Path("/opt/pypi/files"))
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed uv.lock differs")
    args = parser.parse_args()
    pyproject = tomllib.loads((args.project / "pyproject.toml").read_text())
    project = pyproject["project"]
    low = lower_bound(project["requires-python"])
    deps = [Requirement(r) for r in project.get("dependencies", [])]
    groups = {canonicalize_name(g): [Requirement(r) for r in reqs] for g, reqs in pyproject.get("dependency-groups", {}).items()}
    chosen = resolve(deps + [r for reqs in groups.values() for r in reqs], scan(args.mirror), low)
    text = render(project, groups, deps, chosen, low)
    target = args.project / "uv.lock"
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target}: out of date; regenerate with: python3 scripts/uv-lock-from-mirror.py {args.project}", file=sys.stderr)
            return 1
        print(f"{target}: up to date")
        return 0
    target.write_text(text)
    print(f"wrote {target}: {len(chosen)} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
