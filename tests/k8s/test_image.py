"""The Dockerfile cannot be built here (no container engine); what the manifests rely on of it
is checked by reading it."""

from __future__ import annotations

import re

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
