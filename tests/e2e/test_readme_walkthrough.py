"""The README's curl walk-through, run as written against the five services as processes: if
the README drifts from the API, this fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    match = re.search(r"<!-- walkthrough -->\s*```bash\n(.*?)```", text, re.S)
    assert match, "README.md lost its <!-- walkthrough --> block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl, which is not installed")
def test_readme_walkthrough_works_as_written(stack):
    env = {name.upper(): stack.url(name) for name in stack.ports}
    # `make token` signs with the dev secret of the stack it is told about, as on `make run`.
    env |= {"PATH": os.environ["PATH"], "FAYUAN_AUTH_DEV_SECRET": stack.auth_dev_secret}
    script = "set -euo pipefail\n" + walkthrough()
    result = subprocess.run(["bash", "-c", script], env=env, cwd=ROOT,  # noqa: S603
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert '"status":"assigned"' in out and "王律师" in out
    assert '"grade":"fail"' in out
    assert "bar_notice" in out or "notice_id" in out
    assert "评估等级" in out  # the CSV's Chinese header
    assert "110101199003071233" not in out and "13800138000" not in out  # no personal data shown
