"""docs/domain.md defines each rule id once, and the ids the other pages and the code name are
its own; scripts/rules_traced.py reads them from there."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rules_traced", ROOT / "scripts" / "rules_traced.py")
rules_traced = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules_traced)
DEFINED = re.compile(r"^- \*\*(R-[A-Z]{3}-\d+)\*\*", re.MULTILINE)
NAMED = re.compile(r"\bR-[A-Z]{3}-\d+\b")
AREAS = {"PRV", "ASG", "HDL", "CHK", "EVL", "SAN", "PUB"}


def defined() -> list[str]:
    return DEFINED.findall((ROOT / "docs" / "domain.md").read_text())


def test_each_rule_is_defined_once_in_the_areas_of_the_domain():
    ids = defined()
    assert len(ids) == len(set(ids))
    assert {i.split("-")[1] for i in ids} == AREAS
    for area in AREAS:  # numbered from 1, without gaps
        numbers = sorted(int(i.split("-")[2]) for i in ids if i.split("-")[1] == area)
        assert numbers == list(range(1, len(numbers) + 1)), area


def test_every_rule_id_the_project_names_is_defined_in_the_domain():
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    code = [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py"),
            *(ROOT / "tests").rglob("*.py")]
    named = {(i, p.relative_to(ROOT).as_posix())
             for p in [*pages, *code] for i in NAMED.findall(p.read_text())}
    known = set(defined())
    undefined = sorted((i, where) for i, where in named
                       if i not in known and not where.startswith("tests/docs/"))
    assert undefined == []


def test_rules_traced_reads_the_rules_of_the_domain_and_the_lines_of_rules_md(tmp_path: Path):
    by_area_then_number = sorted(defined(), key=lambda i: (i.split("-")[1], int(i.split("-")[2])))
    assert rules_traced.rule_ids(ROOT, []) == by_area_then_number
    (tmp_path / "docs").mkdir()
    (tmp_path / "services" / "a" / "tests").mkdir(parents=True)
    (tmp_path / "services" / "a" / "domain.py").touch()
    (tmp_path / "services" / "a" / "tests" / "test_a.py").touch()
    (tmp_path / "docs" / "domain.md").write_text("- **R-ASG-1** one.\n- **R-ASG-2** two.\n"
                                                 "- **R-ASG-10** ten.\n"
                                                 "- **R-PUB-1** out of the area.\n")
    (tmp_path / "docs" / "rules.md").write_text(
        "| R-ASG-1 | x | services/a/domain.py | services/a/tests/test_a.py::test_x |\n"
        "| R-ASG-2 | x | services/a/gone.py | services/a/tests/test_a.py::test_x |\n"
        "| R-ASG-10 | x | services/a/domain.py | |\n")
    assert rules_traced.untraced(tmp_path, ["ASG"]) == (["R-ASG-1", "R-ASG-2", "R-ASG-10"],
                                                        ["R-ASG-2", "R-ASG-10"])
    assert rules_traced.untraced(tmp_path, []) == (["R-ASG-1", "R-ASG-2", "R-ASG-10", "R-PUB-1"],
                                                   ["R-ASG-2", "R-ASG-10", "R-PUB-1"])
