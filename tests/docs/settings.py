"""docs/settings.md and .env.example, generated from the settings classes of the kernel and of the
five services (shared.settings_doc); the kernel imports no service, so the five are gathered here.

    .venv/bin/python -m tests.docs.settings            # say which file is stale (exit 1 if one is)
    .venv/bin/python -m tests.docs.settings --write    # rewrite them (`make settings-doc`)
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.settings_doc import Section, env_example, reference
from tests.security.services import SERVICES, settings_class

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "settings.md"
ENV_EXAMPLE = ROOT / ".env.example"


def sections() -> list[Section]:
    """Each service's settings class, as its app module exports it."""
    return [(service, settings_class(service)) for service in SERVICES]


def documents() -> dict[Path, str]:
    return {REFERENCE: reference(sections()), ENV_EXAMPLE: env_example(sections())}


def stale() -> list[Path]:
    return [path for path, text in documents().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        for path, text in documents().items():
            path.write_text(text, encoding="utf-8")
    elif stale():
        print("stale:", *(p.relative_to(ROOT) for p in stale()), sep="\n  ")
        sys.exit(1)
