"""The agency's reports over HTTP: cases per handler and institution this month against the cap
(JSON, CSV, XLSX), and the fairness of the rotation against strict rotation."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import text

from services.assignment.tests.conftest import (
    AGENCY,
    assigned_handler,
    handler,
    institution,
    registered,
)
from shared.db import create_engine
from shared.testing.kafka import publish


async def test_monthly_and_fairness_reports_count_what_was_assigned(running):
    async with running() as (client, settings):
        firm_a, firm_b = await institution(client, name="甲所"), await institution(client, name="乙所")
        pool = [await handler(client, firm_a, "甲一"), await handler(client, firm_a, "甲二"),
                await handler(client, firm_b, "乙一")]
        cases = [registered() for _ in range(7)]
        await publish(settings, *cases)
        for case in cases:
            assert await assigned_handler(client, case.case_id)

        report = (await client.get("/api/v1/assignments/reports/monthly",
                                   params={"agency_id": AGENCY})).json()
        by_handler = {h["handler_id"]: h for h in report["handlers"]}
        assert sorted(h["cases"] for h in by_handler.values()) == [2, 2, 3]
        assert all(h["cap"] == 5 and h["remaining"] == 5 - h["cases"] for h in by_handler.values())
        by_institution = {i["institution_name"]: i for i in report["institutions"]}
        assert by_institution["甲所"]["handlers"] == 2
        assert by_institution["甲所"]["cases"] + by_institution["乙所"]["cases"] == 7

        csv = await client.get("/api/v1/assignments/reports/monthly",
                               params={"agency_id": AGENCY, "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("承办人编号,承办人,法律服务机构,本月案件数") and len(lines) == 4
        xlsx = await client.get("/api/v1/assignments/reports/monthly",
                                params={"agency_id": AGENCY, "format": "xlsx"})
        book = load_workbook(io.BytesIO(xlsx.content))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        assert rows[0][3] == "本月案件数" and sum(r[3] for r in rows[1:]) == 7

        fair = (await client.get("/api/v1/assignments/reports/fairness", params={"agency_id": AGENCY})).json()
        assert fair["decisions"] == 7 and {h["handler_id"] for h in fair["handlers"]} == set(pool)
        assert all(h["eligible_turns"] == 7 and abs(h["deviation"]) <= 1 for h in fair["handlers"])
        assert sum(h["actual"] for h in fair["handlers"]) == 7

        bad = await client.get("/api/v1/assignments/reports/monthly", params={"month": "2026-13"})
        assert bad.status_code == 422 and "month" in bad.text


async def test_names_with_control_characters_cannot_enter_and_legacy_ones_do_not_break_the_xlsx(running):
    async with running() as (client, settings):
        for name in ("甲\x01所", "甲所\n乙所", "\t甲所"):
            refused = await client.post("/api/v1/institutions", json={
                "name": name, "kind": "law_firm", "agency_id": AGENCY, "district": "朝阳区"})
            assert refused.status_code == 422 and "name" in {e["field"] for e in refused.json()["errors"]}, (
                refused.text)
        firm = await institution(client, name="甲所")
        lawyer = await handler(client, firm, "甲一")
        refused = await client.post("/api/v1/handlers", json={
            "name": "王\x0b律师", "kind": "lawyer", "institution_id": firm, "years_of_practice": 6,
            "licence_number": "11101201010000077"})
        assert refused.status_code == 422 and "name" in {e["field"] for e in refused.json()["errors"]}
        # Names recorded before control characters were refused.
        engine = create_engine(settings)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE handlers SET name = :n WHERE handler_id = :h"),
                               {"n": "甲\x01一\x1b", "h": lawyer})
            await conn.execute(text("UPDATE institutions SET name = :n WHERE institution_id = :i"),
                               {"n": "甲\x08所", "i": firm})
        await engine.dispose()
        case = registered()
        await publish(settings, case)
        assert await assigned_handler(client, case.case_id) == lawyer
        xlsx = await client.get("/api/v1/assignments/reports/monthly",
                                params={"agency_id": AGENCY, "format": "xlsx"})
        assert xlsx.status_code == 200, xlsx.text
        book = load_workbook(io.BytesIO(xlsx.content))
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        assert rows[1][1:3] == ("甲一", "甲所")
        assert list(book.worksheets[1].iter_rows(values_only=True))[1][1] == "甲所"


async def test_a_month_without_a_calendar_is_a_problem_naming_it(running):
    async with running() as (client, _):
        for report in ("monthly", "fairness"):
            for month in ("0000-01", "9999-12", "1899-12"):
                answer = await client.get(f"/api/v1/assignments/reports/{report}",
                                          params={"month": month, "agency_id": AGENCY})
                assert answer.status_code == 422, (report, month, answer.text)
                assert "query.month" in {e["field"] for e in answer.json()["errors"]}
