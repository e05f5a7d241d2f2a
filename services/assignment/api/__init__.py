"""Assignment's REST API, one router per concept: the provider registry, the agency's reports,
the assignment of cases, and the agencies' assignment rules (in the order they are served)."""

from services.assignment.api import cases, registry, reports, rules

ROUTERS = [registry.router, reports.router, cases.router, rules.router]
