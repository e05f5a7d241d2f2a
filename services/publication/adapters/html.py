"""A published disclosure as a public web page, and the index of them, rendered on the server
with jinja2 (templates/, autoescape on): no script, no font, no stylesheet or image from anywhere,
one inline <style> the page's Content-Security-Policy allows by its hash (`page_csp`).

The chart of the grade distribution per institution is SVG drawn by the template from the
geometry `grade_chart` computes: stacked horizontal bars are rectangles and text, a few dozen
lines. A chart library would bring JavaScript (and with it a script-src in the CSP, a bundle to
audit and upgrade, and a page that draws nothing without scripts), or a server-side plotting
stack far heavier than the chart. The SVG uses presentation attributes (fill=...), never style
attributes, which a hash-based style-src would block.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader

from services.publication.adapters.cells import (
    RATE_HEADERS,
    clean,
    is_number,
    period_label,
    rate_lines,
    tables,
    text,
    title,
    total_lines,
)
from services.publication.domain import GRADE_TITLES, Disclosure, PublishedEntry
from shared.clock import BEIJING
from shared.contracts import Grade

TEMPLATES = Path(__file__).parent / "templates"

# Where the index and a published disclosure's page are served; the index and the feed link there.
INDEX_PATH = "/api/v1/disclosures?format=html"
PAGE_PATH = "/api/v1/disclosures/published/{number}?format=html"

# One colour per grade, colour-blind safe (ColorBrewer RdYlGn ends and middles) and used nowhere
# else on the page, so a screenshot shows the bars by their colour alone.
GRADE_COLOURS = {
    Grade.excellent: "#1a9850",
    Grade.good: "#91cf60",
    Grade.pass_: "#fdae61",
    Grade.fail: "#d73027",
}

# The chart's geometry, in SVG user units (the SVG scales to the page's width).
CHART_WIDTH = 960
LABEL_WIDTH = 260
BARS_WIDTH = 620
ROW = 30
BAR = 20
TOP = 44  # room for the legend
LABEL_CHARS = 16


@dataclass(frozen=True)
class Segment:
    grade: str
    title: str
    count: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    institution: str
    label: str
    total: int
    y: float
    segments: list[Segment]
    counts: dict[str, int]


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR
    legend: list[tuple[str, str]] = field(default_factory=lambda: [
        (GRADE_TITLES[g], GRADE_COLOURS[g]) for g in Grade])
    grades: list[tuple[str, str]] = field(default_factory=lambda: [(g.value, GRADE_TITLES[g]) for g in Grade])


def grade_chart(disclosure: Disclosure) -> Chart:
    """Per institution, how many of its evaluated cases got each grade (Annex 7), most evaluated
    first; each bar's length is its count against the longest."""
    counts: dict[str, dict[str, int]] = {}
    for row in disclosure.tables.evaluation_results.rows:
        per = counts.setdefault(clean(row.institution_name), {g.value: 0 for g in Grade})
        per[Grade(row.grade).value] += 1
    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    longest = max((sum(c.values()) for _, c in ordered), default=1)
    unit = BARS_WIDTH / longest
    bars = []
    for i, (name, per) in enumerate(ordered):
        x = float(LABEL_WIDTH)
        segments = []
        for grade in Grade:
            n = per[grade.value]
            if n:
                segments.append(Segment(grade=grade.value, title=GRADE_TITLES[grade], count=n, x=x,
                                        width=n * unit, colour=GRADE_COLOURS[grade]))
                x += n * unit
        label = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"
        bars.append(Bar(institution=name, label=label, total=sum(per.values()), y=TOP + i * ROW,
                        segments=segments, counts=per))
    return Chart(bars=bars, height=TOP + len(bars) * ROW + 10)


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.1f}%"


def _moment(moment: object) -> str:
    if not isinstance(moment, datetime):
        return ""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else str(moment)


def _paragraphs(text_: str | None) -> list[str]:
    return [clean(p).strip() for p in (text_ or "").splitlines() if p.strip()]


def page_path(entry: PublishedEntry) -> str:
    return PAGE_PATH.format(number=quote(entry.number, safe=""))


_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
_ENV.filters.update(money=_money, percent=_percent, moment=_moment, clean=clean, period=period_label)
_ENV.globals.update(cell=text, is_number=is_number, page_path=page_path, total_lines=total_lines)


def disclosure_html(disclosure: Disclosure) -> str:
    return _ENV.get_template("disclosure.html").render(
        d=disclosure, title=title(disclosure), summary=disclosure.summary,
        tables=[t for _, t in tables(disclosure)],
        rate_headers=RATE_HEADERS, rates=rate_lines(disclosure),
        chart=grade_chart(disclosure), legal_basis=_paragraphs(disclosure.summary.legal_basis),
        procedure=_paragraphs(disclosure.summary.procedure))


def index_html(entries: list[PublishedEntry]) -> str:
    newest_first = sorted(entries, key=lambda e: (e.published_at, e.number), reverse=True)
    return _ENV.get_template("index.html").render(title="法律援助信息公开", entries=newest_first)


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
NONE = "'none'"


def page_csp(html: str) -> str:
    """The page's Content-Security-Policy: nothing may load, the inline <style> runs by its hash
    (not 'unsafe-inline'), nothing may frame it; the API's policy (shared/http.py) otherwise."""
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
                      for s in _STYLE.findall(html))
    return (f"default-src 'none'; style-src {hashes or NONE}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
