"""Sanctions' REST API, one router per concept: investigations of failed cases, the notices to
the bar association and its answers, suspensions of handlers, the yearly duty records, the
commendation lists. Routers only parse, authorise (`allow(...)`) and call one handler or one
query."""

from fastapi import APIRouter

from services.sanctions.api import bar_notices, commendations, duty_records, investigations, suspensions

ROUTERS: list[APIRouter] = [investigations.router, bar_notices.router, suspensions.router,
                            duty_records.router, commendations.router]
"""What app.py hands to its ServiceSpec."""
