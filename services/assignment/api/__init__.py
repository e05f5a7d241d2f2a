"""Assignment's REST API, one router per concept: the provider registry, the agency's reports,
the assignment of cases, cases given to institutions (R-PRV-4), the agencies' assignment
rules and their recruitment calls (in the order they are served)."""

from services.assignment.api import arrangement, cases, recruitment, registry, reports, rules

ROUTERS = [registry.router, reports.router, cases.router, arrangement.router, rules.router,
           recruitment.router]
