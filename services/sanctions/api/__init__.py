"""Sanctions' REST API, one router per concept: investigations of failed cases (and the
information back to the organ that notified the case), the notices to the bar association,
suspensions of handlers, complaints of aided persons. Routers only parse, authorise (`allow(...)`) and
call one handler or one query."""

from fastapi import APIRouter

from services.sanctions.api import bar_notices, complaints, investigations, suspensions

ROUTERS: list[APIRouter] = [investigations.router, bar_notices.router, suspensions.router, complaints.router,
                            investigations.organ_router]
"""What app.py hands to its ServiceSpec."""
