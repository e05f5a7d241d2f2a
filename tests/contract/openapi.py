"""docs/openapi/<service>.json: each service's OpenAPI document exactly as its app serves it at
/openapi.json (shared.openapi.render), committed so that an integrator reads it without running
anything. The kernel imports no service, so the five apps are gathered here.

    .venv/bin/python -m tests.contract.openapi            # say which file is stale (exit 1 if one is)
    .venv/bin/python -m tests.contract.openapi --write    # rewrite them (`make openapi`)
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.openapi import render
from tests.security.services import SERVICES, offline_app

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "docs" / "openapi"
REGENERATE = "make openapi"


def path(service: str) -> Path:
    return DIRECTORY / f"{service}.json"


def documents() -> dict[Path, str]:
    return {path(service): render(offline_app(service)) for service in SERVICES}


def stale() -> list[Path]:
    return [p for p, text in documents().items() if not p.exists() or p.read_text(encoding="utf-8") != text]


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        DIRECTORY.mkdir(parents=True, exist_ok=True)
        for p, text in documents().items():
            p.write_text(text, encoding="utf-8")
    elif stale():
        print("stale:", *(p.relative_to(ROOT) for p in stale()), sep="\n  ")
        sys.exit(1)
