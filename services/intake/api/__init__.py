"""Intake's REST API, one module per concept: legal-aid cases (`cases`), their handling (`handling`),
the end of a case (`end`), the closing check's checklists (`checklists`), the overdue worklist
(`worklist`), and the aided person's data (`aided_person`).

ROUTERS is what app.py includes, in this order: a path of one router that another's could also
match (`/api/v1/cases/closing-checklists/...`) goes to the first one listed."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api import aided_person, cases, checklists, end, handling, worklist

ROUTERS: list[APIRouter] = [cases.router, handling.router, end.router, checklists.checklists,
                            worklist.worklist, aided_person.router, aided_person.persons]
