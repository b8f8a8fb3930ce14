"""What a stranger installs is whole: every import is declared, the package carries its sources, and
nothing reads the developers' ../shared folder."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0]).lower()


def runtime_closure() -> set[str]:
    """The distributions that ``pip install .`` brings: [project].dependencies and theirs, no extras."""
    wanted = [_name(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    closure: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        wanted += [_name(r) for r in requirements if not re.search(r"extra\s*==", r)]
    return closure


def imported_modules() -> dict[str, list[str]]:
    """Top-level modules imported anywhere in ptcekb/ (module level or inside functions) -> where."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "ptcekb").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_import_of_the_package_comes_with_the_runtime_install():
    closure, distributions = runtime_closure(), metadata.packages_distributions()
    missing = {}
    for module, places in imported_modules().items():
        if module in sys.stdlib_module_names or module in ("ptcekb", "__future__"):
            continue
        providers = {_name(d) for d in distributions.get(module, [])}
        if not providers & closure:
            missing[module] = places
    assert not missing, f"imports that `pip install .` does not bring: {missing}"


def test_the_check_sees_a_test_only_import():
    """The closure is the runtime one: pytest (a test extra) is not in it, httpx (runtime) is."""
    closure = runtime_closure()
    assert "pytest" not in closure and "playwright" not in closure
    assert {"httpx", "pyoxigraph", "fastapi", "starlette"} <= closure


def test_the_package_carries_every_file_the_build_reads():
    """setup.py copies SOURCES (less LEFT_OUT) into the package: each file a build reads must be there."""
    setup = ast.parse((ROOT / "setup.py").read_text())
    constants = {t.id: ast.literal_eval(node.value) for node in setup.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name) and t.id in ("SOURCES", "LEFT_OUT")}
    from ptcekb.ingest import all_sources

    read = [path.relative_to(ROOT) for source in all_sources() for path in source.files(ROOT)]
    assert read, "the build reads files"
    outside = [str(p) for p in read if p.parts[0] not in constants["SOURCES"] or set(p.parts) & set(constants["LEFT_OUT"])]
    assert not outside, f"read by the build but not packaged: {outside}"


def test_nothing_reads_the_developers_shared_folder():
    tracked = subprocess.run(["git", "ls-files", "ptcekb", "tests", "bench", "Makefile", ".ci", "setup.py"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"\.\./shared|[\"']shared[\"']|\bSHARED\b")
    readers = [name for name in tracked if name.endswith((".py", "Makefile", "run"))
               and name != "tests/unit/test_packaging.py" and pattern.search((ROOT / name).read_text(encoding="utf-8"))]
    assert not readers, readers
