"""The agency's reports over HTTP: cases per handler and institution this month against the cap
(JSON, CSV, XLSX), and the fairness of the rotation against strict rotation."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.assignment.tests.conftest import (
    AGENCY,
    assigned_handler,
    handler,
    institution,
    registered,
)
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
