"""`make audit`: pip-audit on the exact versions uv.lock pins, against PyPI's advisory data.

Fails on any known vulnerability that docs/security.md does not accept (ACCEPTED below, each
with its reason there). When pip-audit's per-version advisory data cannot be reached (a PyPI
mirror without per-version JSON, as on the build machine so far), it falls back to the project
JSON, whose `vulnerabilities` are those of the latest release: every locked version that is the
latest release is checked that way, and the others are listed as unchecked, by name, rather than
passed silently. With no PyPI at all it says so and skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404 - runs uv and pip-audit, fixed argv
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Advisory ids accepted in docs/security.md ("Accepted findings"), e.g. "GHSA-xxxx-xxxx-xxxx".
ACCEPTED: set[str] = set()


def locked(requirements: Path) -> list[tuple[str, str]]:
    """(name, version) of every `name==version` line uv exported."""
    pins = []
    for line in requirements.read_text().splitlines():
        spec = line.split(";")[0].strip()
        if "==" in spec and not spec.startswith("#"):
            name, version = spec.split("==", 1)
            pins.append((name.strip(), version.strip()))
    return pins


def latest_release_advisories(pin: tuple[str, str]) -> tuple[str, str, list[str] | None]:
    """The advisories PyPI lists for `pin` when it is the project's latest release; None when it is
    not (the project JSON speaks only for the latest) or PyPI cannot be asked."""
    name, version = pin
    try:
        data = httpx.get(f"https://pypi.org/pypi/{name}/json", timeout=10).raise_for_status().json()
    except httpx.HTTPError:
        return name, version, None
    if data.get("info", {}).get("version") != version:
        return name, version, None
    ids = [v["id"] for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return name, version, [i for i in ids if i not in ACCEPTED]


def fallback(requirements: Path) -> int:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(latest_release_advisories, locked(requirements)))
    checked = [r for r in results if r[2] is not None]
    if not checked:
        print("pip-audit: SKIPPED, neither per-version nor project advisory data is reachable "
              "from this machine")
        return 0
    for name, version, ids in checked:
        for advisory in ids or []:
            print(f"pip-audit: {name} {version}: {advisory}")
    unchecked = sorted(f"{n}=={v}" for n, v, ids in results if ids is None)
    print(f"pip-audit (project JSON): {len(checked)} locked dependencies are their latest release "
          f"and were checked; {sum(1 for *_, ids in checked if ids)} have known vulnerabilities")
    if unchecked:
        print("pip-audit: UNCHECKED (not the latest release, or PyPI did not answer): "
              f"{', '.join(unchecked)}")
    return 1 if any(ids for *_, ids in checked) else 0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        subprocess.run(  # noqa: S603  # nosec B603
            # uv lives beside the system python3 (the Makefile's `python3 -m uv`), not in .venv.
            [shutil.which("python3") or "python3", "-m", "uv", "export", "--frozen", "--no-hashes",
             "--no-emit-project", "--all-groups", "-o", str(requirements)],
            cwd=ROOT, check=True, capture_output=True,
        )
        result = subprocess.run(  # noqa: S603  # nosec B603
            [str(ROOT / ".venv/bin/pip-audit"), "-r", str(requirements), "--disable-pip", "--no-deps",
             "--progress-spinner", "off", "--format", "json", "--timeout", "10",
             *[arg for advisory in sorted(ACCEPTED) for arg in ("--ignore-vuln", advisory)]],
            capture_output=True, text=True, timeout=300,
        )
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            print(f"pip-audit: could not run ({result.stderr.strip()[-300:]}); "
                  "asking the project JSON instead")
            return fallback(requirements)
        dependencies = report.get("dependencies", [])
        if dependencies and all(d.get("skip_reason") for d in dependencies):
            print("pip-audit: the per-version advisory data is not reachable "
                  f"({dependencies[0]['skip_reason']}); asking the project JSON instead")
            return fallback(requirements)
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for d in vulnerable:
        for v in d["vulns"]:
            print(f"pip-audit: {d['name']} {d['version']}: {v['id']} "
                  f"(fixed in {', '.join(v['fix_versions']) or '-'})")
    if vulnerable:
        return 1
    print(f"pip-audit: no known vulnerabilities in {len(dependencies) - len(skipped)} locked dependencies"
          + (f" ({len(skipped)} could not be looked up)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
