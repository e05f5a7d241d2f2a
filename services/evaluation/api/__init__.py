"""Evaluation's REST API, one module per concept: peer evaluations and the closed cases awaiting
them (`evaluations`), case subsidies and the agencies' subsidy schedules (`subsidies`)."""

from services.evaluation.api.evaluations import cases_router, router
from services.evaluation.api.subsidies import router as subsidies_router
from services.evaluation.api.subsidies import schedules_router

ROUTERS = [router, cases_router, subsidies_router, schedules_router]

__all__ = ["ROUTERS", "cases_router", "router", "schedules_router", "subsidies_router"]
