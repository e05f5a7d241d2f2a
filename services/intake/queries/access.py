"""Who sees which case (docs/intake.md "Who may call what", docs/security.md "Scoping").

The agency's side (staff, checker, quality lead) sees its own agency's cases only (the token's
`agency_id`); the bureau those of its district (the case's `district` against the token's
`district`; the city bureau, without one, every case); auditors every case. A handler sees only
the cases whose current handler they are; a notifying organ (court, procuratorate, police) only the cases it
notified, and of those only the status and who was assigned (R-ASG-7). A scoped caller asking
for any other case gets 404, never 403: the answer must not tell that the case exists."""

from __future__ import annotations

from services.intake.queries.views import CaseView, NotifiedCaseView
from shared.aggregate import NotFound
from shared.auth import AgencyScope, Principal, Role, agency_scope

# Unscoped readers first, scoped roles last: a caller holding both acts with the wider view.
AGENCY_READERS = (Role.agency_staff, Role.closing_checker, Role.quality_lead, Role.bureau_investigator,
                  Role.auditor)
CASE_READERS = (*AGENCY_READERS, Role.case_handler)
NOTIFIED_READERS = (*CASE_READERS, Role.judicial_organ)
# Never a real id: a scoped caller whose token lacks its scoping claim sees nothing.
_NOBODY = "∅ without a scoping claim"


def handler_scope(principal: Principal) -> str | None:
    """The handler whose cases alone the caller acts on; None when the caller is not scoped."""
    return (principal.handler_id or _NOBODY) if principal.role is Role.case_handler else None


def organ_scope(principal: Principal) -> str | None:
    """The notifying organ's system (its institution id) whose notifications alone it sees."""
    return (principal.institution_id or _NOBODY) if principal.role is Role.judicial_organ else None


def scope(principal: Principal) -> AgencyScope:
    """The agencies whose cases the caller sees and acts on (shared.auth.agency_scope)."""
    return agency_scope(principal)


def check(view: CaseView, principal: Principal) -> None:
    """404 unless the caller may see the case."""
    handler, organ = handler_scope(principal), organ_scope(principal)
    if ((handler is not None and view.handler_id != handler)
            or (organ is not None and view.source_system != organ)
            or not scope(principal).admits(view.agency_id, view.district)):
        raise NotFound(f"no case {view.case_id}")


def shown(view: CaseView, principal: Principal) -> CaseView | NotifiedCaseView:
    """What the caller is shown of a case it may see: a notifying organ, the status and handler."""
    return NotifiedCaseView.of(view) if principal.role is Role.judicial_organ else view
