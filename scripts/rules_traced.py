"""Which rules of docs/domain.md docs/rules.md traces to the code and the tests.

Usage, from the repository's root: `python3 scripts/rules_traced.py ASG PRV ...` (the areas of
the rule ids, R-ASG-*, R-PRV-*; none: every area). A rule is traced when one line of
docs/rules.md names its id, an existing source file under services/ or shared/, and an existing
test. Prints the untraced ids, or a count; exits 1 when any is untraced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"\bR-[A-Z]{3}-\d+\b")
PYTHON_PATH = re.compile(r"[\w./-]+\.py")


def rule_ids(root: Path, areas: list[str]) -> list[str]:
    """The ids docs/domain.md defines (`- **R-XXX-n**`), of the given areas (all when none)."""
    text = (root / "docs" / "domain.md").read_text()
    ids = re.findall(r"^- \*\*(R-[A-Z]{3}-\d+)\*\*", text, flags=re.MULTILINE)
    return sorted({i for i in ids if not areas or i.split("-")[1] in areas},
                  key=lambda i: (i.split("-")[1], int(i.split("-")[2])))


def traced(root: Path, rule: str, lines: list[str]) -> bool:
    for line in lines:
        if rule not in RULE_ID.findall(line):
            continue
        paths = [p for p in PYTHON_PATH.findall(line) if (root / p.split("::")[0]).is_file()]
        code = [p for p in paths if p.startswith(("services/", "shared/")) and "test" not in p]
        tests = [p for p in paths if "test" in p]
        if code and tests:
            return True
    return False


def untraced(root: Path, areas: list[str]) -> tuple[list[str], list[str]]:
    """(the rules of `areas`, those docs/rules.md does not trace)."""
    rules = root / "docs" / "rules.md"
    lines = rules.read_text().splitlines() if rules.exists() else []
    ids = rule_ids(root, areas)
    return ids, [i for i in ids if not traced(root, i, lines)]


def main(argv: list[str]) -> int:
    ids, missing = untraced(ROOT, [a.upper() for a in argv])
    if missing:
        print(f"{len(ids) - len(missing)}/{len(ids)} rules traced; untraced: {' '.join(missing)}")
        return 1
    print(f"{len(ids)}/{len(ids)} rules traced to code and tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
