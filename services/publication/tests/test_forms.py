"""The disclosure's forms (R-PUB-2): CSV for every table, the XLSX workbook, the public web page
and the index, the Atom feed. Each form is read back with an independent reader (the csv module,
openpyxl, lxml) and compared with the JSON; the endpoint serves each form with its media type."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from lxml import etree

from services.publication.adapters import (
    atom_feed,
    disclosure_csv,
    disclosure_html,
    disclosure_xlsx,
    index_html,
    page_csp,
)
from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from services.publication.domain import (
    Correction,
    Disclosure,
    EvaluationResult,
    InstitutionCases,
    Period,
    PersonCases,
    PublishedEntry,
    Scope,
    SubsidyPayment,
    Tables,
)
from shared.contracts import CaseKind, Grade
from shared.testing.fixtures import serve_in_process

# What a reader sees for each code, written out here rather than taken from the renderers.
WORDS = {
    "case_kind": {"criminal": "刑事", "civil": "民事", "administrative": "行政", "non_litigation": "非诉讼"},
    "grade": {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"},
    "handler_kind": {"lawyer": "律师", "grassroots_legal_worker": "基层法律服务工作者",
                     "volunteer": "法律援助志愿者"},
}
MONEY_COLUMNS, DATE_COLUMNS = {"amount"}, {"paid_on"}
FIRM, OFFICE = "北京市某某律师事务所", "朝阳区某某法律服务所"
# A name pasted with a bell and a vertical tab in it: XML cannot carry them, every form drops them.
DIRTY_OFFICE, CLEAN_OFFICE = "朝阳区\x07某某\x0b法律服务所", OFFICE


def evaluation(n: int, grade: Grade, institution: str, handler: str, kind: CaseKind) -> EvaluationResult:
    return EvaluationResult(period="2026-H1", agency_id="chaoyang-centre", case_number=f"FY-2026-{n:06d}",
                            case_kind=kind, grade=grade, institution_name=institution, handler_name=handler)


def sample() -> Disclosure:
    """Rows in every table, Annex 4 included, a name with control characters and one with markup."""
    evaluations = [
        evaluation(1, Grade.excellent, FIRM, "王律师", CaseKind.criminal),
        evaluation(2, Grade.good, FIRM, "李律师", CaseKind.civil),
        evaluation(3, Grade.good, FIRM, "王律师", CaseKind.criminal),
        evaluation(4, Grade.fail, DIRTY_OFFICE, "赵工作者", CaseKind.administrative),
        evaluation(5, Grade.pass_, DIRTY_OFFICE, "<b>孙</b>", CaseKind.non_litigation),
    ]
    institutions = [
        InstitutionCases(period="2026-H1", agency_id="chaoyang-centre", institution_id="firm-1",
                         institution_name=FIRM, criminal=2, civil=1, administrative=0, non_litigation=0,
                         total=3),
        InstitutionCases(period="2026-H1", agency_id="chaoyang-centre", institution_id="office-2",
                         institution_name=DIRTY_OFFICE, criminal=0, civil=0, administrative=1,
                         non_litigation=1, total=2),
    ]
    persons = [
        PersonCases(period="2026-H1", agency_id="chaoyang-centre", institution_id="firm-1",
                    institution_name=FIRM,
                    handler_id="h-wang", handler_name="王律师", handler_kind="lawyer", criminal=2, civil=0,
                    administrative=0, non_litigation=0, total=2),
        PersonCases(period="2026-H1", agency_id="chaoyang-centre", institution_id="office-2",
                    institution_name=DIRTY_OFFICE, handler_id="h-zhao", handler_name="赵工作者",
                    handler_kind="grassroots_legal_worker", criminal=0, civil=0, administrative=1,
                    non_litigation=0, total=1),
    ]
    subsidies = [
        SubsidyPayment(period="2026-H1", agency_id="chaoyang-centre", institution_name=FIRM,
                       handler_name="王律师",
                       case_number="FY-2026-000001", case_kind=CaseKind.criminal, amount=Decimal("2400.00"),
                       paid_on=date(2026, 5, 20)),
        SubsidyPayment(period="2026-H1", agency_id="chaoyang-centre", institution_name=DIRTY_OFFICE,
                       handler_name="赵工作者", case_number="FY-2026-000004",
                       case_kind=CaseKind.administrative,
                       amount=Decimal("1234.5"), paid_on=date(2026, 6, 30)),
        SubsidyPayment(period="2026-H1", agency_id="chaoyang-centre", institution_name=FIRM,
                       handler_name="李律师", case_number="FY-2026-000002", case_kind=CaseKind.civil,
                       amount=Decimal("800.00"), paid_on=date(2026, 6, 30)),
    ]
    draft = Disclosure.of(Period(2026, 1), evaluations=evaluations, institutions=institutions,
                          persons=persons, subsidies=subsidies, target=60.0)
    summary = draft.summary.model_copy(update={
        "legal_basis": "《中华人民共和国法律援助法》第十二条、第五十二条、第五十八条。\n"
                       "《法律援助条例》第二十四条。",
        "procedure": "结案材料审查、质量评估、按等级发放补贴、审批、公开。",
        "legal_help_sessions": 37})
    return draft.model_copy(update={
        "summary": summary, "status": "published",
        "title": "朝阳区法律援助信息公开（2026年上半年）",
        "scope": Scope(level="agency", id="chaoyang-centre", name="朝阳区法律援助中心"),
        "number": "朝法援公开〔2026〕1号", "version": 1, "cut_off": datetime(2026, 7, 5, 16, 0, tzinfo=UTC),
        "published_at": datetime(2026, 7, 10, 2, 0, tzinfo=UTC)})


def shown(column: str, value: object) -> object:
    """A JSON cell as a reader of the forms should see it."""
    if column in WORDS and value is not None:
        return WORDS[column][value]
    if isinstance(value, str):
        return value.replace("\x07", "").replace("\x0b", "")
    return value


def json_tables(body: Disclosure | dict) -> dict:
    if isinstance(body, Disclosure):
        body = body.model_dump(mode="json")
    assert list(body["tables"]) == list(Tables.model_fields)
    return body["tables"]


def lines(table: dict) -> list[dict]:
    """The table's rows, then its total lines (Annex 4's) as every form prints them, written out here:
    the label in the first column, a total's fields in the columns of the same name, nothing else."""
    first = table["columns"][0]["name"]
    totals = [{c["name"]: total["label"] if c["name"] == first else total.get(c["name"])
               for c in table["columns"]} for total in table.get("totals", [])]
    return table["rows"] + totals


def test_the_sample_has_rows_in_every_table():
    assert all(table["rows"] for table in json_tables(sample()).values())


def test_annex_4_has_its_totals_per_institution_and_overall_as_computed_by_hand():
    totals = json_tables(sample())["subsidy_payments"]["totals"]
    # 王律师 2400.00 and 李律师 800.00 at the firm; 赵工作者 1234.5 at the office.
    assert [(t["level"], t["label"], t["institution_name"], t["payments"], t["amount"]) for t in totals] == [
        ("institution", "小计（2笔）", FIRM, 2, "3200.00"),
        ("institution", "小计（1笔）", DIRTY_OFFICE, 1, "1234.50"),
        ("overall", "合计（3笔）", None, 3, "4434.50")]
    assert sample().summary.subsidies_paid == Decimal("4434.50")


@pytest.mark.parametrize("name", list(Tables.model_fields))
def test_every_table_as_csv_parses_back_to_the_json(name):
    disclosure = sample()
    table = json_tables(disclosure)[name]

    raw = disclosure_csv(disclosure, name)

    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == [c["title"] for c in table["columns"]]
    expected = []
    for row in lines(table):
        cells = []
        for c in table["columns"]:
            value = shown(c["name"], row[c["name"]])
            cells.append("" if value is None else f"{Decimal(value):.2f}" if c["name"] in MONEY_COLUMNS
                         else str(value))
        expected.append(cells)
    assert rows[1:] == expected
    if name == "subsidy_payments":
        assert rows[-3:] == [["小计（2笔）", "chaoyang-centre", FIRM, "", "", "", "3200.00", ""],
                             ["小计（1笔）", "chaoyang-centre", CLEAN_OFFICE, "", "", "", "1234.50", ""],
                             ["合计（3笔）", "", "", "", "", "", "4434.50", ""]]


def assert_workbook_equals_json(xlsx: bytes, body: dict) -> None:
    """The workbook read back with openpyxl: every annex's sheet equals the JSON's table, cell by cell,
    its totals included; the rates sheet the JSON's rates."""
    tables = json_tables(body)
    book = openpyxl.load_workbook(io.BytesIO(xlsx))

    assert book.sheetnames == ["摘要", "优良率", *(f"附件{t['annex']} {t['title']}" for t in tables.values())]
    for sheet_name, table in zip(book.sheetnames[2:], tables.values(), strict=True):
        sheet = book[sheet_name]
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == [c["title"] for c in table["columns"]], sheet_name
        assert len(values) == 1 + len(lines(table))
        for read, row in zip(values[1:], lines(table), strict=True):
            for cell, c in zip(read, table["columns"], strict=True):
                expected = shown(c["name"], row[c["name"]])
                if expected is None:
                    assert cell is None, (sheet_name, c["name"])
                elif c["name"] in MONEY_COLUMNS:
                    assert isinstance(cell, float | int) and Decimal(str(cell)) == Decimal(expected)
                elif c["name"] in DATE_COLUMNS:
                    assert isinstance(cell, datetime) and cell.date() == date.fromisoformat(expected)
                else:
                    assert cell == expected and type(cell) is type(expected), (sheet_name, c["name"])
        # The header is styled and frozen; money and dates carry their formats.
        assert all(cell.font.bold and cell.fill.fill_type == "solid" for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert all(sheet.column_dimensions[cell.column_letter].width >= 8 for cell in sheet[1])
    summary = body["summary"]
    rates = list(book["优良率"].iter_rows(values_only=True))
    assert rates[0] == ("类别", "名称", "评估件数", "优秀", "良好", "合格", "不合格", "优良率（%）",
                        "优良率目标（%）", "是否达到目标")
    words = {True: "是", False: "否", None: None}
    assert [tuple(r) for r in rates[1:]] == [
        (kind, r["agency_id"] or shown("name", r["institution_name"]), r["cases_evaluated"],
         *(r["grade_counts"][g] for g in ("excellent", "good", "pass", "fail")), r["excellent_and_good_rate"],
         summary["excellent_and_good_target"], words[r["meets_target"]])
        for kind, level in (("法律援助机构", "rates_by_agency"), ("法律服务机构", "rates_by_institution"))
        for r in summary[level]]


def test_the_workbook_read_back_with_openpyxl_equals_the_json():
    disclosure = sample()

    xlsx = disclosure_xlsx(disclosure)

    assert_workbook_equals_json(xlsx, disclosure.model_dump(mode="json"))
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    annex4 = book[book.sheetnames[2]]
    assert [annex4.cell(row=r, column=7).number_format for r in (2, 3)] == ["#,##0.00"] * 2
    assert [annex4.cell(row=r, column=8).is_date for r in (2, 3)] == [True, True]
    assert [annex4.cell(row=r, column=1).font.bold for r in (4, 5, 6, 7)] == [False, True, True, True]
    assert len(list(book["优良率"].iter_rows())) == 1 + 1 + 2  # the agency, the two institutions


def test_the_summary_sheet_carries_the_summarys_figures():
    disclosure = sample()
    summary = disclosure.model_dump(mode="json")["summary"]

    sheet = openpyxl.load_workbook(io.BytesIO(disclosure_xlsx(disclosure)))["摘要"]
    read = {label: value for label, value in sheet.iter_rows(min_row=2, values_only=True)}

    assert read["编号"] == "朝法援公开〔2026〕1号"
    assert read["结案数"] == summary["cases_closed"] == 5
    assert read["结案数：刑事"] == summary["cases_closed_by_kind"]["criminal"] == 2
    assert read["评估案件数"] == summary["cases_evaluated"] == 5
    for grade in summary["grade_distribution"]:
        assert read[f"评估等级：{grade['title']}（件）"] == grade["count"]
        assert read[f"评估等级：{grade['title']}（%）"] == grade["percentage"]
    assert read["优良率（%）"] == summary["excellent_and_good_rate"] == 60.0
    assert read["优良率目标（%）"] == 60.0
    assert read["是否达到优良率目标"] == "是"  # 3 of 5, exactly the target
    assert read["法律帮助（值班律师，人次）"] == 37
    assert Decimal(str(read["发放办案补贴（元）"])) == Decimal(summary["subsidies_paid"])
    # Beijing's local time, as a date-time Excel can show (it has no zones).
    assert read["发布时间（北京时间）"] == datetime(2026, 7, 10, 10, 0)


def test_the_page_escapes_names_and_allows_only_its_own_style():
    html = disclosure_html(sample())

    assert "<b>孙</b>" not in html and "&lt;b&gt;孙&lt;/b&gt;" in html
    assert "\x07" not in html and "\x0b" not in html
    assert not re.search(r"<(script|link|img|iframe)\b", html) and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert " style=" not in html  # a hash-based style-src would block style attributes
    # Annex 4's totals in its table's foot; each agency's and institution's rate against the target.
    foot = html[html.index("<tfoot>"):html.index("</tfoot>")]
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr) for tr in re.findall(r"<tr.*?</tr>", foot, re.S)]
    assert cells == [
        ["小计（2笔）", "chaoyang-centre", FIRM, "", "", "", "3200.00", ""],
        ["小计（1笔）", "chaoyang-centre", CLEAN_OFFICE, "", "", "", "1234.50", ""],
        ["合计（3笔）", "", "", "", "", "", "4434.50", ""]]
    assert "优良率 60.0%，目标 60.0%（已达到目标）" in html
    rates = html[html.index('id="summary-rates"'):html.index('id="chart-heading"')]
    assert re.search(r"北京市某某律师事务所</th><td class=\"number\">3</td>", rates)
    assert rates.count("<tr>") == 1 + 3 and "100.0%" in rates
    csp = page_csp(html)
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "'unsafe-inline'" not in csp and "script-src" not in csp


def atom(xml: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(xml, parser)


A = "{http://www.w3.org/2005/Atom}"


def test_the_feed_parses_as_atom_and_a_correction_says_what_it_corrects():
    first = PublishedEntry(number="朝法援公开〔2026〕1号", title="朝阳区法律援助信息公开（2026年上半年）",
                           scope=Scope(level="agency", id="chaoyang-centre", name="朝阳区法律援助中心"),
                           period="2026-H1", version=1, published_at=datetime(2026, 7, 10, 2, 0, tzinfo=UTC))
    correction = first.model_copy(update={
        "number": "朝法援公开〔2026〕2号", "version": 2,
        "published_at": datetime(2026, 8, 3, 2, 0, tzinfo=UTC),
        "corrects": Correction(replaces="朝法援公开〔2026〕1号",
                               changes=["附件7增加一件7月2日登记结案的案件", "优良率由60.0%改为66.7%"])})

    feed = atom(atom_feed([first, correction], "https://legalaid.bjsf.example/"))

    assert feed.tag == A + "feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(A + required) is not None, required
    assert feed.findtext(A + "updated").startswith("2026-08-03T02:00:00")
    entries = feed.findall(A + "entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert (entry.findtext(A + required) or "").strip(), required
        assert re.fullmatch(r"tag:legalaid\.bjsf\.example,2026:disclosure/[%0-9A-F]+/v[12]",
                            entry.findtext(A + "id"))
        assert entry.find(A + "link").get("href").startswith("https://legalaid.bjsf.example/api/v1/")
    newest = entries[0]
    assert "更正" in newest.findtext(A + "title")
    assert "本版更正第 朝法援公开〔2026〕1号 号" in newest.findtext(A + "summary")
    assert "附件7增加一件7月2日登记结案的案件" in newest.findtext(A + "summary")
    assert len({e.findtext(A + "id") for e in entries}) == 2


def test_the_index_links_every_published_disclosure_newest_first():
    older = PublishedEntry(number="1", title="旧", scope=Scope(), period="2025-H2", version=1,
                           published_at=datetime(2026, 1, 10, tzinfo=UTC))
    newer = older.model_copy(update={"number": "2", "title": "新<i>", "period": "2026-H1",
                                     "published_at": datetime(2026, 7, 10, tzinfo=UTC)})

    html = index_html([older, newer])

    assert html.index("新&lt;i&gt;") < html.index(">旧<")
    assert 'href="/api/v1/disclosures/published/2?format=html"' in html
    assert 'href="/api/v1/disclosures/published/1?format=html"' in html
    assert "尚无已发布" in index_html([])


# --- the endpoint ---------------------------------------------------------------------------


@pytest.fixture
async def public_api(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False)
    async with serve_in_process(create_app(settings), headers={}) as client:
        yield client


@pytest.fixture
async def staff_api(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield client


async def test_the_endpoint_serves_each_form_with_its_media_type(staff_api):
    """A (here empty) draft in each form, as staff read it; the published forms: test_published.py."""
    def get(**params):
        return staff_api.get("/api/v1/disclosures/drafts/2031-H2", params=params)

    body = (await get()).json()
    xlsx = await get(format="xlsx")
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx.headers["content-disposition"] == 'attachment; filename="disclosure-2031-H2.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert [list(next(book[n].iter_rows(values_only=True))) for n in book.sheetnames[2:]] == [
        [c["title"] for c in t["columns"]] for t in body["tables"].values()]

    persons = await get(format="csv", table="cases_per_person")
    assert persons.headers["content-disposition"] == 'attachment; filename="cases-per-person-2031-H2.csv"'
    assert persons.content.decode("utf-8-sig").splitlines()[0].split(",") == [
        c["title"] for c in body["tables"]["cases_per_person"]["columns"]]

    page = await get(format="html")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == page_csp(page.text)
    assert "本期没有评估结果" in page.text and "草稿" in page.text
    assert "合计（0笔）" in page.text


async def test_an_unknown_table_is_a_problem_naming_the_table(public_api):
    response = await public_api.get("/api/v1/disclosures/2026-H1",
                                    params={"format": "csv", "table": "persons"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.table"]
