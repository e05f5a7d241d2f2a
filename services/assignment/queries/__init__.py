"""Every read of assignment, one module per concept: the registry (`registry`), the cases'
decision records (`cases`), the agencies' rules (`rules`) and the reports (`reports`). SQL over
the read models of projections.py, or an aggregate's own stream, into typed read models; the
scoping of what each role sees. What the other rooms use is named here."""

from services.assignment.queries import scope
from services.assignment.queries.cases import (
    NO_ASSIGNMENT,
    AssignmentView,
    AwaitingInstitution,
    BlockedCase,
    Decision,
    InstitutionCase,
    assignment,
    concerns_institution,
    list_awaiting_institution,
    list_blocked,
    list_institution_cases,
)
from services.assignment.queries.registry import (
    NO_HANDLER,
    NO_INSTITUTION,
    HandlerView,
    InstitutionView,
    VolunteerEntry,
    candidates,
    handler,
    institution,
    institution_facts,
    list_handlers,
    list_institutions,
    list_volunteers,
)
from services.assignment.queries.reports import (
    FairnessReport,
    FairnessRow,
    HandlerMonth,
    InstitutionMonth,
    MonthlyReport,
    fairness_report,
    monthly_report,
)
from services.assignment.queries.rotation import rotation
from services.assignment.queries.rules import NO_RULES, RulesDocument, RulesVersion, rules_document, rules_of

__all__ = [
    "NO_ASSIGNMENT", "NO_HANDLER", "NO_INSTITUTION", "NO_RULES",
    "AssignmentView", "AwaitingInstitution", "BlockedCase", "Decision", "FairnessReport", "FairnessRow",
    "HandlerMonth", "HandlerView", "InstitutionCase", "InstitutionMonth", "InstitutionView", "MonthlyReport",
    "RulesDocument", "RulesVersion", "VolunteerEntry", "assignment", "candidates", "concerns_institution",
    "fairness_report", "handler", "institution", "institution_facts", "list_awaiting_institution",
    "list_blocked", "list_handlers", "list_institution_cases", "list_institutions", "list_volunteers",
    "monthly_report", "rotation", "rules_document", "rules_of", "scope",
]
