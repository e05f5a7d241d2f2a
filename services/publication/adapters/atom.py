"""The published disclosures as an Atom feed (RFC 4287), for the bureau's and the bar
association's websites and the WeChat accounts that republish them (R-PUB-2).

Each version is one entry: its id a tag: URI (RFC 4151) minted from the site's host and the
disclosure's number and version, so it never changes when the page moves; its link the page;
its summary says, for a correction, which version it corrects and what changed.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from feedgen.feed import FeedGenerator

from services.publication.adapters.cells import clean, period_label
from services.publication.adapters.html import INDEX_PATH, page_path
from services.publication.domain import PublishedEntry

FEED_PATH = "/api/v1/disclosures/feed"
# The date in every tag: URI: the year the bureau's host was first used to mint them (RFC 4151 §2.1).
TAG_DATE = "2026"
AUTHOR = "法律援助信息公开"


def tag(host: str, specific: str) -> str:
    return f"tag:{host},{TAG_DATE}:{specific}"


def entry_summary(entry: PublishedEntry) -> str:
    text = f"{clean(entry.scope.name)}{period_label(entry.period)}法律援助信息公开，第 {entry.version} 版。"
    if entry.corrects:
        changes = "；".join(clean(c) for c in entry.corrects.changes)
        text += f"本版更正第 {clean(entry.corrects.replaces)} 号：{changes}"
    return text


def atom_feed(entries: list[PublishedEntry], base_url: str, *, query: str = "") -> bytes:
    """The feed of `entries`; `query`: the feed's own query (a scope's feed), kept in its self link."""
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    feed = FeedGenerator()
    feed.id(tag(host, "disclosures" + (f"?{query}" if query else "")))
    feed.title("法律援助信息公开")
    feed.subtitle("法律援助机构依法律援助法第五十八条公开的资金使用、案件办理和质量评估情况")
    feed.author({"name": AUTHOR})
    feed.language("zh-CN")
    feed.link(href=base + FEED_PATH + (f"?{query}" if query else ""), rel="self", type="application/atom+xml")
    feed.link(href=base + INDEX_PATH, rel="alternate", type="text/html")
    oldest_first = sorted(entries, key=lambda e: (e.published_at, e.number))
    for e in oldest_first:  # feedgen puts the last added first
        item = feed.add_entry()
        item.id(tag(host, f"disclosure/{quote(clean(e.number), safe='')}/v{e.version}"))
        item.title(clean(e.title) + ("（更正）" if e.corrects else ""))
        item.link(href=base + page_path(e), rel="alternate", type="text/html")
        item.updated(e.published_at)
        item.published(e.published_at)
        item.summary(entry_summary(e))
    if oldest_first:
        feed.updated(oldest_first[-1].published_at)
    return bytes(feed.atom_str(pretty=True))
