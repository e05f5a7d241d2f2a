"""The README and docs/ stand on their own in a clone: every link and every path they name
resolves to a file of the repository, and none climbs out of it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
# [text](target "title") and ![alt](target); the text may run over several lines.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A path written anywhere (prose, code span, code block) that starts by leaving its directory.
CLIMBING = re.compile(r"(?<![\w./-])(?:\.\./)+[\w./-]*")
# Any Markdown file named anywhere, as `docs/x.md`, `x.md`, `../x.md`.
MARKDOWN_NAME = re.compile(r"(?<![\w./-])[\w./-]*[\w-]\.md\b")


def page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def links(text: str) -> list[str]:
    prose = FENCE.sub("", text)
    return [*INLINE.findall(prose), *DEFINITION.findall(prose), *HTML.findall(prose)]


def resolve(page: Path, target: str) -> Path:
    path = unquote(target.split("#", 1)[0])
    return (ROOT / path.lstrip("/")) if path.startswith("/") else (page.parent / path)


def inside_the_repository(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT.resolve())


def test_the_pages_are_found():
    names = {page_id(p) for p in PAGES}
    assert {"README.md", "docs/domain.md", "docs/rules.md", "docs/adr/0005-house-plan.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves_to_a_file_of_the_repository(page: Path):
    broken = []
    for target in links(page.read_text()):
        if SCHEME.match(target) or target.startswith("#") or not target:
            continue  # a web address, or an anchor of the page itself
        path = resolve(page, target)
        if not inside_the_repository(path) or not path.exists():
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_path_named_in_a_page_climbs_out_of_the_repository(page: Path):
    outside = [path for path in CLIMBING.findall(page.read_text())
               if not inside_the_repository(page.parent / path) or not (page.parent / path).exists()]
    assert outside == []


def markdown_files() -> set[str]:
    """Every Markdown file of the repository (dot-directories such as .venv and .git skipped)."""
    found = set()
    for directory, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found |= {(Path(directory) / n).relative_to(ROOT).as_posix() for n in names if n.endswith(".md")}
    return found


def names_a_file_here(page: Path, name: str, files: set[str]) -> bool:
    """By its path from the page or the root, or as the tail of one (`rules.md, security.md` in a
    listing of docs/)."""
    if any((base / name).is_file() and inside_the_repository(base / name) for base in (page.parent, ROOT)):
        return True
    return not name.startswith("../") and any(f.endswith("/" + name.removeprefix("./")) for f in files)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_markdown_file_a_page_names_is_in_the_repository(page: Path):
    """`design.md §5` names a page a clone does not have: say it here, or link the ADR that does."""
    files = markdown_files()
    missing = [name for name in MARKDOWN_NAME.findall(page.read_text())
               if not names_a_file_here(page, name, files)]
    assert missing == []


def test_the_checks_catch_what_they_are_for(tmp_path: Path):
    text = ("The rules are in `../shared/domain.md` and [the design](../shared/design.md),\n"
            "a [split\nlink](docs/nowhere.md), gaps (design.md §5), [web](https://example.org/a.md)\n"
            "```\n[not a link](in/a/fence.md)\n```\n[ref]: ../../outside.md\n")
    assert links(text) == ["../shared/design.md", "docs/nowhere.md", "https://example.org/a.md",
                           "../../outside.md"]
    assert CLIMBING.findall(text) == ["../shared/domain.md", "../shared/design.md", "../../outside.md"]
    assert "design.md" in MARKDOWN_NAME.findall(text)
    assert not inside_the_repository(ROOT / "README.md" / ".." / ".." / "shared" / "domain.md")
    assert inside_the_repository(resolve(ROOT / "docs" / "rules.md", "domain.md"))
    files = {"docs/rules.md", "docs/adr/0004-apache-kafka-in-the-tests.md"}
    assert names_a_file_here(ROOT / "README.md", "rules.md", files)
    assert not names_a_file_here(ROOT / "README.md", "design.md", files)
    assert not names_a_file_here(ROOT / "docs" / "rules.md", "../shared/domain.md", files)
