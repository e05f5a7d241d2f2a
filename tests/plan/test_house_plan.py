"""The house plan (docs/adr/0005) as a newcomer relies on it: every service has the same rooms
under the same names, and the kernel's clock, zone and page are the only ones. (What each room
may import is checked by import-linter's contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["intake", "assignment", "evaluation", "sanctions", "publication"]

# A room is a module or, once it outgrows one file, a package of the same name.
ROOMS = {"domain", "handlers", "queries", "api", "projections", "consumers", "settings", "adapters", "app",
         "__main__", "__init__", "migrations", "tests"}
EVERY_SERVICE_HAS = {"domain", "queries", "api", "projections", "consumers", "settings", "app", "__main__",
                     "migrations", "tests"}


def rooms_of(service: str) -> set[str]:
    here = ROOT / "services" / service
    return {p.stem if p.is_file() else p.name for p in here.iterdir()
            if (p.is_file() and p.suffix == ".py") or (p.is_dir() and p.name != "__pycache__")}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_rooms_of_the_plan_and_no_others(service):
    rooms = rooms_of(service)
    assert rooms - ROOMS == set(), f"{service} has modules outside the plan's rooms"
    assert EVERY_SERVICE_HAS - rooms == set(), f"{service} lacks rooms of the plan"


def runtime_modules() -> list[Path]:
    paths = [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]
    return [p for p in paths if "tests" not in p.relative_to(ROOT).parts and "testing" not in p.parts]


def calls(tree: ast.AST) -> list[str]:
    return [ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)]


def test_the_clock_and_the_zone_are_the_kernels_only():
    found = []
    for path in runtime_modules():
        if path == ROOT / "shared" / "clock.py":
            continue
        for call in calls(ast.parse(path.read_text(), str(path))):
            if call in {"datetime.now", "datetime.utcnow", "ZoneInfo", "zoneinfo.ZoneInfo"}:
                found.append(f"{path.relative_to(ROOT)}: {call}()")
    assert found == [], "read the time and the zone from shared.clock"


def test_one_page_model_and_one_pair_of_paging_bounds():
    found = []
    for path in runtime_modules():
        if path == ROOT / "shared" / "paging.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Page"):
                found.append(f"{path.relative_to(ROOT)}: class {node.name}")
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [f"{path.relative_to(ROOT)}: {t.id} =" for t in targets
                          if isinstance(t, ast.Name) and t.id in {"Offset", "Limit"}]
    assert found == [], "use shared.paging's Page, paginate, Offset and Limit"
