"""docs/security.md shows who may call each endpoint exactly as the code declares it."""

from __future__ import annotations

from tests.security.table import DOC, REGENERATE, section, split


def test_the_endpoints_and_roles_of_docs_security_md_are_the_code_s():
    _, documented, _ = split(DOC.read_text())
    assert documented.strip() == section().strip(), (
        f"docs/security.md's 'Endpoints and roles' differs from the roles the endpoints declare; "
        f"regenerate it with `{REGENERATE}` and review the diff")
