"""What the public reads once the bureau has published a disclosure (R-PUB-1, R-PUB-2), through the
real app: the disclosure published by the workflow (submitted, then approved by another person of
the bureau), then, without a token, the index page linking to its page, the page (its own CSP),
the Atom feed linking to the page, the workbook equal to the JSON, Annex 4's totals in the CSV; a
draft or a submission awaiting approval is in none of them; a correction is a new entry saying what
it corrects, and the version it corrects stays as it was."""

from __future__ import annotations

import csv
import html as html_
import io
import re
from urllib.parse import urlencode, urlsplit

from lxml import etree

from services.publication.adapters import page_csp
from services.publication.tests.test_forms import assert_workbook_equals_json
from services.publication.tests.test_workflow import (
    LI,
    WANG,
    CaseKind,
    Grade,
    closed,
    draft,
    graded,
    publish_city,
)
from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.kafka import eventually, publish

ANONYMOUS = {"Authorization": ""}
A = "{http://www.w3.org/2005/Atom}"
FIRST = "FY-2026H1-CITY-01"


def links(page: str) -> list[str]:
    return [html_.unescape(href) for href in re.findall(r'<a href="([^"]+)"', page)]


def atom(xml: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    feed = etree.fromstring(xml, parser)
    assert feed.tag == A + "feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(A + required) is not None, required
    return feed


def entry_link(entry) -> str:
    """The entry's page, as a path of this app."""
    url = urlsplit(entry.find(A + "link").get("href"))
    assert url.netloc == "testserver"
    return f"{url.path}?{url.query}"


async def get_page(client, path: str) -> str:
    response = await client.get(path, headers=ANONYMOUS)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert csp == page_csp(response.text) and csp.startswith("default-src 'none'; style-src 'sha256-")
    return response.text


async def test_the_published_disclosure_is_in_the_index_and_the_feed_and_opens_in_every_form(seeded):
    settings, client = seeded
    published = await publish_city(client, settings)
    assert published["number"] == FIRST
    # Not published: the second half-year's draft (a case in it), and the Haidian agency's submission,
    # which awaits the bureau's approval.
    assert (await draft(client, "2026-H2"))["summary"]["cases_closed"] == 1
    bureau = as_role(settings, Role.bureau_investigator, sub="bureau-1")
    pending = await client.post("/api/v1/disclosures/drafts/2026-H1/submission", headers=bureau,
                                json={"level": "agency", "id": "haidian-centre"})
    assert pending.status_code == 201, pending.text

    # The index lists the published one, and only it, with a link to its page.
    index = await get_page(client, "/api/v1/disclosures?format=html")
    page_path = f"/api/v1/disclosures/published/{FIRST}?format=html"
    assert links(index) == [page_path]
    assert "全市2026年上半年法律援助信息公开" in index
    assert "HAIDIAN" not in index and "下半年" not in index
    listed = (await client.get("/api/v1/disclosures", headers=ANONYMOUS)).json()
    assert [e["number"] for e in listed["items"]] == [FIRST] and listed["total"] == 1

    # The page the index links to: the summary, the rates, the annexes with Annex 4's totals.
    page = await get_page(client, page_path)
    assert f"编号：{FIRST}" in page and "草稿" not in page
    assert "优良率 50.0%，目标 70.0%（未达到目标）" in page
    assert 'id="summary-rates"' in page and "66.7%" in page
    foot = page[page.index("<tfoot>"):page.index("</tfoot>")]
    assert "合计（3笔）" in foot and "2500.00" in foot and "小计（2笔）" in foot
    for annex in (4, 5, 6, 7):
        assert f'id="table-annex-{annex}"' in page
    # The same page under the period's address (the latest version of the city's).
    assert await get_page(client, "/api/v1/disclosures/2026-H1?format=html") == page

    # The feed: Atom, one entry, linking to the page.
    feed = await client.get("/api/v1/disclosures/feed", headers=ANONYMOUS)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    entries = atom(feed.content).findall(A + "entry")
    assert len(entries) == 1
    assert entry_link(entries[0]) == page_path
    assert entries[0].findtext(A + "title") == "全市2026年上半年法律援助信息公开"
    assert (await get_page(client, entry_link(entries[0]))) == page
    # A scope's own feed, for the website of that scope: the city's has it, Haidian's (pending) nothing.
    for scope, count in (({"level": "city"}, 1), ({"level": "agency", "id": "haidian-centre"}, 0)):
        own = atom((await client.get("/api/v1/disclosures/feed", params=scope, headers=ANONYMOUS)).content)
        assert len(own.findall(A + "entry")) == count, scope
        assert urlsplit(own.find(A + "link[@rel='self']").get("href")).query == urlencode(scope)

    # The workbook of the published version read back equals its JSON, totals and rates included.
    body = (await client.get(f"/api/v1/disclosures/published/{FIRST}", headers=ANONYMOUS)).json()
    assert body == published
    xlsx = await client.get(f"/api/v1/disclosures/published/{FIRST}", params={"format": "xlsx"},
                            headers=ANONYMOUS)
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"] == 'attachment; filename="disclosure-2026-H1.xlsx"'
    assert_workbook_equals_json(xlsx.content, body)

    # Annex 4 as CSV: the payments, then the totals per institution and overall.
    annex4 = await client.get("/api/v1/disclosures/2026-H1", headers=ANONYMOUS,
                              params={"format": "csv", "table": "subsidy_payments"})
    read = list(csv.reader(io.StringIO(annex4.content.decode("utf-8-sig"), newline="")))
    assert [r[0] for r in read[1:]] == ["2026-H1"] * 3 + ["小计（2笔）", "小计（1笔）", "合计（3笔）"]
    assert [r[6] for r in read[-3:]] == ["2000.00", "500.00", "2500.00"]


async def test_a_correction_is_a_new_entry_saying_what_it_corrects(seeded):
    settings, client = seeded
    await publish_city(client, settings)
    first_page = await get_page(client, f"/api/v1/disclosures/published/{FIRST}?format=html")
    # After publication: case 3 re-graded good, and a case that ended on 15 June closed and graded late.
    await publish(settings, graded(3, Grade.good, WANG, on="2026-11-20T10:00:00"),
                  closed(7, CaseKind.civil, LI, ended="2026-06-15", recorded="2026-11-20T11:00:00"))
    await publish(settings, graded(7, Grade.excellent, LI, on="2026-11-21T10:00:00"))

    async def late() -> bool:
        assert (await draft(client, "2026-H1"))["summary"]["cases_evaluated"] == 5
        return True

    await eventually(late)
    second = await publish_city(client, settings)
    assert (second["number"], second["corrects"]["replaces"]) == ("FY-2026H1-CITY-02", FIRST)
    changes = second["corrects"]["changes"]
    assert "优良率（%）由50.0变为80.0。" in changes

    # The index: both versions, the correction first, saying what it corrects and what changed.
    index = await get_page(client, "/api/v1/disclosures?format=html")
    assert links(index) == ["/api/v1/disclosures/published/FY-2026H1-CITY-02?format=html",
                            f"/api/v1/disclosures/published/{FIRST}?format=html"]
    assert f"更正第 {FIRST} 号：" in index and "优良率（%）由50.0变为80.0。" in index

    # The feed: a new entry, titled a correction, whose summary names the version it corrects.
    entries = atom((await client.get("/api/v1/disclosures/feed", headers=ANONYMOUS)).content).findall(
        A + "entry")
    assert [entry_link(e) for e in entries] == links(index)
    newest = entries[0]
    assert newest.findtext(A + "title") == "全市2026年上半年法律援助信息公开（更正）"
    assert f"本版更正第 {FIRST} 号" in newest.findtext(A + "summary")
    assert "优良率（%）由50.0变为80.0。" in newest.findtext(A + "summary")
    assert len({e.findtext(A + "id") for e in entries}) == 2

    # The correction's page says what it corrects; the corrected version's page is as it was.
    corrected = await get_page(client, entry_link(newest))
    assert f"本版更正第 {FIRST} 号公开" in corrected and "FY-2026-007" in corrected
    assert await get_page(client, f"/api/v1/disclosures/published/{FIRST}?format=html") == first_page
    assert "FY-2026-007" not in first_page
