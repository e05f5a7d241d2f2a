"""What every form of a disclosure shows in a cell: the tables in the order they are published,
words for codes, money with two decimals, dates as dates, and names cleaned of control characters.

Control characters (U+0000 to U+001F except tab, line feed and carriage return) cannot be
written in XML 1.0, which XLSX and Atom are made of: openpyxl refuses them with
IllegalCharacterError and lxml refuses to serialize them, so one stray byte pasted into an
institution's name would fail the whole disclosure. HTML forbids them too. They carry no meaning
in a name, so every form drops them from text (the JSON, which can escape them, keeps the data as
recorded).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from services.publication.domain import CASE_KIND_TITLES, GRADE_TITLES, Disclosure, Table, Tables
from shared.clock import BEIJING
from shared.contracts import HandlerKind

HANDLER_KIND_TITLES = {
    HandlerKind.lawyer: "律师",
    HandlerKind.grassroots_legal_worker: "基层法律服务工作者",
    HandlerKind.volunteer: "法律援助志愿者",
}

# Codes become the words readers know; only in these columns, so a name is never translated.
WORDS: dict[str, dict[str, str]] = {
    "case_kind": {k.value: v for k, v in CASE_KIND_TITLES.items()},
    "grade": {k.value: v for k, v in GRADE_TITLES.items()},
    "handler_kind": {k.value: v for k, v in HANDLER_KIND_TITLES.items()},
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean(text: str) -> str:
    """The text without the control characters XML 1.0 cannot carry (see the module's docstring)."""
    return _CONTROL.sub("", text)


def tables(disclosure: Disclosure) -> Iterator[tuple[str, Table]]:
    """(field name, table) in the order of `Tables`' fields: a new annex appears in every form."""
    for name in type(disclosure.tables).model_fields:
        yield name, getattr(disclosure.tables, name)


def total_lines(table: Table) -> list[list[object]]:
    """The table's total lines (Annex 4's per institution and overall), as raw cells in the table's own
    columns: the label in the first column, each of the total's fields named like a column in that
    column (agency, institution, amount), nothing in the others. Every form prints them below the rows."""
    lines: list[list[object]] = []
    for total in getattr(table, "totals", []):
        fields = type(total).model_fields
        lines.append([total.label if i == 0 else getattr(total, c.name) if c.name in fields else None
                      for i, c in enumerate(table.columns)])
    return lines


def yes_no(flag: bool | None) -> str | None:
    return None if flag is None else "是" if flag else "否"


RATE_HEADERS = ["类别", "名称", "评估件数", *GRADE_TITLES.values(), "优良率（%）", "优良率目标（%）",
                "是否达到目标"]


def rate_lines(disclosure: Disclosure) -> list[list[object]]:
    """The excellent-and-good rate of each agency, then of each institution (R-EVL-8), as the rows under
    `RATE_HEADERS`: in the page's summary and the workbook's sheet 优良率."""
    s = disclosure.summary
    target = s.excellent_and_good_target
    lines: list[list[object]] = []
    for kind, rates in (("法律援助机构", s.rates_by_agency), ("法律服务机构", s.rates_by_institution)):
        for r in rates:
            name = clean(r.agency_id or r.institution_name or "")
            lines.append([kind, name, r.cases_evaluated, *(r.grade_counts.get(g, 0) for g in GRADE_TITLES),
                          r.excellent_and_good_rate, target, yes_no(r.meets_target)])
    return lines


def table_names() -> list[str]:
    return list(Tables.model_fields)


def value(column: str, raw: object) -> object:
    """The cell's value, typed: numbers stay numbers, dates dates; codes become words, text is cleaned."""
    if isinstance(raw, Enum):
        raw = raw.value
    words = WORDS.get(column)
    if words is not None and isinstance(raw, str):
        return words.get(raw, raw)
    if isinstance(raw, str):
        return clean(raw)
    return raw


def text(column: str, raw: object) -> str:
    """The cell as text (CSV, HTML): money with two decimals, dates as YYYY-MM-DD, nothing for null."""
    typed = value(column, raw)
    if typed is None:
        return ""
    if isinstance(typed, Decimal):
        return f"{typed:.2f}"
    if isinstance(typed, date):
        return typed.isoformat()
    return str(typed)


def is_number(raw: object) -> bool:
    return isinstance(raw, int | float | Decimal) and not isinstance(raw, bool)


def period_label(period: str) -> str:
    """`2026-H1` -> 2026年上半年, `2026-Q3` -> 2026年第三季度; anything else as given."""
    match = re.fullmatch(r"(\d{4})-([HQ])([1-4])", period)
    if not match:
        return period
    year, kind, n = match.groups()
    if kind == "H":
        return f"{year}年{'上' if n == '1' else '下'}半年"
    return f"{year}年第{'一二三四'[int(n) - 1]}季度"


def title(disclosure: Disclosure) -> str:
    """The title as published, or the one a draft goes by."""
    if disclosure.title:
        return clean(disclosure.title)
    return f"{clean(disclosure.scope.name)}法律援助信息公开（{period_label(disclosure.period)}）"


def summary_rows(disclosure: Disclosure) -> list[tuple[str, object]]:
    """The summary as (label, value) pairs, in the order the summary sheet shows them; times in
    Beijing's local time, without zone (Excel has none)."""
    def local(moment: object) -> object:
        if isinstance(moment, datetime):
            return moment.astimezone(BEIJING).replace(tzinfo=None) if moment.tzinfo else moment
        return moment

    s = disclosure.summary
    rows: list[tuple[str, object]] = [
        ("标题", title(disclosure)),
        ("公开范围", clean(disclosure.scope.name)),
        ("期间", disclosure.period),
        ("起始日期", disclosure.starts_on),
        ("截止日期", disclosure.ends_on),
        ("状态", "已发布" if disclosure.status == "published" else "草稿（未发布）"),
        ("编号", disclosure.number and clean(disclosure.number)),
        ("版本", disclosure.version),
        ("数据截止时间（北京时间）", local(disclosure.cut_off)),
        ("发布时间（北京时间）", local(disclosure.published_at)),
    ]
    if disclosure.corrects:
        rows += [("更正的版本", clean(disclosure.corrects.replaces)),
                 ("更正内容", "；".join(clean(c) for c in disclosure.corrects.changes))]
    rows += [("结案数", s.cases_closed)]
    rows += [(f"结案数：{kind_title}", getattr(s.cases_closed_by_kind, kind))
             for kind, kind_title in WORDS["case_kind"].items()]
    rows += [
        ("法律帮助（值班律师，人次）", s.legal_help_sessions),
        ("发放办案补贴（元）", s.subsidies_paid),
        ("评估案件数", s.cases_evaluated),
    ]
    for g in s.grade_distribution:
        rows += [(f"评估等级：{g.title}（件）", g.count), (f"评估等级：{g.title}（%）", g.percentage)]
    rows += [
        ("优良率（%）", s.excellent_and_good_rate),
        ("优良率目标（%）", s.excellent_and_good_target),
        ("是否达到优良率目标", yes_no(s.meets_target)),
        ("法律依据", s.legal_basis and clean(s.legal_basis)),
        ("工作程序", s.procedure and clean(s.procedure)),
    ]
    return rows
