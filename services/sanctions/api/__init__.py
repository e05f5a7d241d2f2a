"""Sanctions' REST API, one router per concept: investigations of failed cases (and the
information back to the organ that notified the case), the notices to the bar association and
its answers, suspensions of handlers, complaints of aided persons, the yearly duty records, the
commendation lists. Routers only parse, authorise (`allow(...)`) and call one handler or one
query."""

from fastapi import APIRouter

from services.sanctions.api import (
    bar_notices,
    commendations,
    complaints,
    duty_records,
    investigations,
    suspensions,
)

ROUTERS: list[APIRouter] = [investigations.router, bar_notices.router, suspensions.router, complaints.router,
                            investigations.organ_router, duty_records.router, commendations.router]
