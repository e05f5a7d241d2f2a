"""The public web page of a published disclosure as a reader's browser shows it (R-PUB-2): the app
serves it over real HTTP (uvicorn on a free port, fed through the broker as evaluation feeds it, the
disclosure submitted and approved by two persons of the bureau), Debian's headless Chromium opens
it, and the screenshot shows the chart's bars in the grades' colours while the DOM Chromium built
holds the annexes' tables and the SVG chart. `.ci/run` installs Chromium."""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image

from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from shared.auth import Role
from shared.contracts import CaseKind, EvaluationCompleted, Grade, HandlerKind, HandlerRef
from shared.testing.auth import as_role
from shared.testing.kafka import eventually, publish

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (`apt-get install -y chromium`, as .ci/run does)")

# The bars' colours, as the page promises them (adapters/html.py GRADE_COLOURS), written out here.
COLOURS = {"excellent": (0x1A, 0x98, 0x50), "good": (0x91, 0xCF, 0x60), "pass": (0xFD, 0xAE, 0x61),
           "fail": (0xD7, 0x30, 0x27)}
AGENCY = "chaoyang-centre"


def handler(n: int, institution: str) -> HandlerRef:
    return HandlerRef(handler_id=f"h-{n}", name=f"承办人{n}", kind=HandlerKind.lawyer,
                      institution_id=f"inst-{institution}", institution_name=institution)


def evaluated(n: int, grade: Grade, institution: str) -> EvaluationCompleted:
    return EvaluationCompleted(
        evaluation_id=str(uuid.uuid4()), case_id=f"case-{n}", case_number=f"FY-2026-{n:06d}",
        case_kind=CaseKind.civil, agency_id=AGENCY, handler=handler(n, institution), grade=grade,
        reviewer_id="reviewer-1", completed_at=datetime.fromisoformat(f"2026-05-{n:02d}T10:00:00+08:00"))


@pytest.fixture
async def served(migrated_settings):
    """The publication app served by uvicorn on a free port of 127.0.0.1, with its consumers."""
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn stopped while starting"
        await asyncio.sleep(0.05)
    try:
        yield settings, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def chromium(*args: str, user_data: Path) -> bytes:
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={user_data}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


def pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 8) -> int:
    counts = image.convert("RGB").getcolors(maxcolors=image.width * image.height) or []
    return sum(n for n, rgb in counts
               if all(abs(a - b) <= tolerance for a, b in zip(rgb, colour, strict=True)))


async def test_the_page_shows_the_tables_and_the_chart_in_headless_chromium(served, tmp_path):
    settings, base = served
    await publish(settings, *[
        evaluated(1, Grade.excellent, "北京市甲律师事务所"), evaluated(2, Grade.good, "北京市甲律师事务所"),
        evaluated(3, Grade.good, "北京市甲律师事务所"), evaluated(4, Grade.pass_, "北京市乙律师事务所"),
        evaluated(5, Grade.fail, "北京市乙律师事务所"), evaluated(6, Grade.excellent, "朝阳区丙法律服务所"),
    ])
    bureau = as_role(settings, Role.bureau_investigator, sub="bureau-1")
    async with httpx.AsyncClient(base_url=base) as http:
        async def all_six() -> bool:
            body = (await http.get("/api/v1/disclosures/drafts/2026-H1", headers=bureau)).json()
            assert body["summary"]["cases_evaluated"] == 6, body["summary"]
            return True

        await eventually(all_six)
        assert (await http.get("/api/v1/disclosures/2026-H1")).status_code == 404  # not yet published
        # Published as the bureau publishes: submitted, then approved by another person of the bureau.
        submitted = await http.post("/api/v1/disclosures/drafts/2026-H1/submission", headers=bureau,
                                    json={"level": "city"})
        assert submitted.status_code == 201, submitted.text
        approved = await http.post("/api/v1/disclosures/drafts/2026-H1/approval", json={"level": "city"},
                                   headers=as_role(settings, Role.bureau_investigator, sub="bureau-2"))
        assert approved.status_code == 201, approved.text
        number = approved.json()["number"]
        page = await http.get(f"/api/v1/disclosures/published/{number}", params={"format": "html"})
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert number in page.text and "草稿" not in page.text
    url = f"{base}/api/v1/disclosures/published/{number}?format=html"

    # Without the CSP allowing the inline style, the table borders and header fills would be missing:
    # the header fill's colour in the screenshot shows the stylesheet applied under the page's policy.
    png = tmp_path / "page.png"
    await chromium(f"--screenshot={png}", "--window-size=1280,2000", url, user_data=tmp_path / "profile")
    image = Image.open(png)
    assert image.size == (1280, 2000)
    for grade, colour in COLOURS.items():
        assert pixels_near(image, colour) > 500, f"no {grade} bar in the screenshot"
    assert pixels_near(image, (0xE8, 0xEE, 0xF5), tolerance=2) > 500, "the stylesheet was not applied"

    dom = (await chromium("--dump-dom", url, user_data=tmp_path / "profile-dom")).decode()
    assert dom.count("<svg") == 1 and "<title id=\"chart-title\">" in dom
    assert dom.count("<rect") >= 4 + 5  # the legend's four, and a segment per grade an institution got
    for annex in (4, 5, 6, 7):
        assert f'id="table-annex-{annex}"' in dom
    assert 'id="chart-data"' in dom and "北京市乙律师事务所" in dom
    assert dom.count("FY-2026-0000") == 6  # every evaluated case in Annex 7
    assert 'id="summary-rates"' in dom and "合计（0笔）" in dom  # the rates; Annex 4's total (nothing paid)
