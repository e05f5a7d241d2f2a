"""`make audit`: pip-audit on the exact versions uv.lock pins, against PyPI's advisory data.

Fails on any known vulnerability that docs/security.md does not accept (ACCEPTED below, each
with its reason there). When the advisory data cannot be reached (offline CI, a PyPI mirror
without per-version JSON) it says so and skips, rather than failing or pretending it checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404 - runs uv and pip-audit, fixed argv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Advisory ids accepted in docs/security.md ("Accepted findings"), e.g. "GHSA-xxxx-xxxx-xxxx".
ACCEPTED: set[str] = set()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        subprocess.run(  # noqa: S603  # nosec B603
            # uv lives beside the system python3 (the Makefile's `python3 -m uv`), not in .venv.
            [shutil.which("python3") or "python3", "-m", "uv", "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups",
             "-o", str(requirements)],
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
        print(f"pip-audit: SKIPPED, it could not run: {result.stderr.strip()[-500:]}")
        return 0
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for d in vulnerable:
        for v in d["vulns"]:
            print(f"pip-audit: {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions']) or '-'})")
    if vulnerable:
        return 1
    if dependencies and len(skipped) == len(dependencies):
        print(f"pip-audit: SKIPPED, the advisory data is not reachable from this machine "
              f"({skipped[0]['name']}: {skipped[0]['skip_reason']})")
        return 0
    print(f"pip-audit: no known vulnerabilities in {len(dependencies) - len(skipped)} locked dependencies"
          + (f" ({len(skipped)} could not be looked up)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
