"""Known vulnerabilities in the installed dependencies: pip-audit, with a fallback that works here.

pip-audit asks a vulnerability service about each installed (name, version): OSV (api.osv.dev) or
PyPI's per-release JSON (``/pypi/NAME/VERSION/json``). From this project's machines (developers and
CI) OSV cannot be reached, and the PyPI index answers only the per-project JSON
(``/pypi/NAME/json``): pip-audit then reports every dependency as "not found on PyPI" and exits 0
having audited nothing. So this script:

1. runs ``pip-audit --vulnerability-service pypi`` (JSON output) and takes what it audited;
2. for each dependency it skipped, reads ``/pypi/NAME/json``, whose ``vulnerabilities`` (PyPI's
   advisory database, the same data pip-audit uses) are those of the latest release: they apply
   when the installed version is that release (constraints.txt pins current versions);
3. fails (exit 1) on any known vulnerability; says which dependencies could be audited by neither
   way (a pinned version older than the latest) and fails on nothing it could not see, loudly.

Run by ``make audit`` (called from .ci/run); docs/operations.md explains what to do when it fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from importlib import metadata
from concurrent.futures import ThreadPoolExecutor

INDEX = "https://pypi.org/pypi/{}/json"


def run_pip_audit() -> dict:
    result = subprocess.run([sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi", "--format", "json",
                             "--progress-spinner", "off", "--skip-editable"], capture_output=True, text=True, timeout=900)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        print(f"pip-audit failed ({result.returncode}): {result.stderr.strip()[-500:]}", file=sys.stderr)
        return {"dependencies": []}
    return json.loads(result.stdout)


def latest(name: str) -> tuple[str, list[dict]] | None:
    try:
        with urllib.request.urlopen(INDEX.format(name), timeout=30) as response:
            document = json.load(response)
    except (OSError, ValueError):
        return None
    return document["info"]["version"], document.get("vulnerabilities") or []


def main() -> int:
    report = run_pip_audit()
    found, audited, skipped = [], [], []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            if dependency["name"] != "ptcekb":  # this project, installed editable
                skipped.append(dependency)
            continue
        audited.append(dependency["name"])
        found += [(dependency["name"], dependency["version"], v.get("id"), v.get("fix_versions"))
                  for v in dependency.get("vulns", [])]
    unaudited = []
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda d: latest(d["name"]), skipped))
    for dependency, answer in zip(skipped, answers):
        name = dependency["name"]
        try:  # pip-audit's JSON gives no version for a skipped dependency
            version = dependency.get("version") or metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "?"
        if answer is None or answer[0] != version:
            unaudited.append(f"{name} {version}" + ("" if answer is None else f" (latest {answer[0]})"))
            continue
        audited.append(name)
        found += [(name, version, v.get("id"), v.get("fixed_in")) for v in answer[1] if not v.get("withdrawn")]
    print(f"audit: {len(audited)} dependencies checked against PyPI's advisory database, "
          f"{len(found)} known vulnerabilities")
    for name, version, ident, fixes in found:
        print(f"audit: VULNERABLE {name} {version}: {ident}; fixed in {', '.join(fixes or []) or '?'}")
    if unaudited:
        print(f"audit: WARNING, {len(unaudited)} dependencies could not be checked: {', '.join(unaudited)}")
    if not audited:
        print("audit: WARNING, no vulnerability service could be reached: nothing was audited")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
