"""docs/security.md's "Endpoints and roles", generated from the code (shared.auth.roles_table).

    .venv/bin/python -m tests.security.table            # print the section
    .venv/bin/python -m tests.security.table --write    # rewrite it in docs/security.md
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from shared.auth import roles_table
from tests.security.services import SERVICES, offline_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
HEADING = "## Endpoints and roles"
REGENERATE = ".venv/bin/python -m tests.security.table --write"
INTRO = (
    "Generated from the code by `shared.auth.roles_table(app)` for each service; "
    "tests/security/test_docs_table.py fails when this section differs from the code. "
    "A row \"(none declared)\" is an endpoint that checks no token (every service endpoint "
    "must declare its roles; tests/security/test_roles.py fails on one that does not). The "
    "operational routes `/healthz`, `/readyz`, `/metrics`, `/docs` and `/openapi.json` are open and "
    "not listed.\n"
)
TESTED = (
    "tests/security/test_roles.py checks every row against the running app: no token, a `401` problem "
    "(public endpoints excepted); every role but the listed ones, a `403` problem; each listed role "
    "alone, let through. The end-to-end tests, the README walk-through and the bench call the "
    "running stack as the person each call belongs to, with tokens from `Stack.token(*roles, "
    "**claims)` / `Stack.headers(...)` (devstack/stack.py: every stack runs with "
    "`FAYUAN_ENVIRONMENT=dev` and a dev secret of its own); tests/e2e/test_personal_data_scan.py "
    "runs the whole flow with a seeded aided person and finds none of their data on any topic, in "
    "any log line, export or response, or in the other services' databases (docs/privacy.md).\n"
)


def section() -> str:
    parts = [f"{HEADING}\n\n{textwrap.fill(INTRO, width=98)}\n\n{textwrap.fill(TESTED, width=98)}\n\n"
             "Regenerate it after changing an endpoint's roles:\n\n"
             f"```bash\n{REGENERATE}\n```\n"]
    for service in SERVICES:
        parts.append(f"### {service}\n\n{roles_table(offline_app(service))}")
    return "\n".join(parts)


def split(text: str) -> tuple[str, str, str]:
    """(before, the section, after): the section runs from its heading to the next `## `."""
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    end = len(text) if end == -1 else end + 1
    return text[:start], text[start:end], text[end:]


def write() -> None:
    before, _, after = split(DOC.read_text())
    DOC.write_text(before + section() + ("\n" + after if after else ""))


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        sys.stdout.write(section())
