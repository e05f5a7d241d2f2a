"""Evaluation's REST API, one module per concept: peer evaluations and the closed cases awaiting
them (`evaluations`), case subsidies and the agencies' subsidy schedules (`subsidies`), the
expert pool (`experts`), rounds and their files (`rounds`), the standards and grading rules
(`standards`), the organs' opinions (`opinions`), corrections (`corrections`) and the
excellent-and-good rates (`rates`)."""

from services.evaluation.api.corrections import router as corrections_router
from services.evaluation.api.evaluations import cases_router, router
from services.evaluation.api.experts import router as experts_router
from services.evaluation.api.opinions import router as opinions_router
from services.evaluation.api.rates import router as rates_router
from services.evaluation.api.rounds import files_router as review_files_router
from services.evaluation.api.rounds import router as rounds_router
from services.evaluation.api.standards import router as standards_router
from services.evaluation.api.standards import rules_router
from services.evaluation.api.subsidies import router as subsidies_router
from services.evaluation.api.subsidies import schedules_router

ROUTERS = [router, cases_router, subsidies_router, schedules_router, standards_router, rules_router,
           opinions_router, corrections_router, rates_router]
# The method of peer evaluation (R-EVL-4, R-EVL-6): the expert pool, rounds and their files.
ROUTERS += [experts_router, rounds_router, review_files_router]

__all__ = ["ROUTERS", "cases_router", "corrections_router", "experts_router", "opinions_router",
           "rates_router",
           "review_files_router", "rounds_router", "router", "rules_router", "schedules_router",
           "standards_router", "subsidies_router"]
