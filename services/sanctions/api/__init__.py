"""Sanctions' REST API, one router per concept: investigations of failed cases, the notices to
the bar association, suspensions of handlers. Routers only parse, authorise (`allow(...)`) and
call one handler or one query."""

from fastapi import APIRouter

from services.sanctions.api import bar_notices, investigations, suspensions

ROUTERS: list[APIRouter] = [investigations.router, bar_notices.router, suspensions.router]
"""What app.py hands to its ServiceSpec."""
