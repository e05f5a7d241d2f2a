"""The provider registry and the assignment of cases (pure: no I/O).

Streams: `institution-<id>` and `handler-<id>` (the registry), `rotation-<agency_id>` (whose turn
it is in an agency's pool, and how many cases each handler took this month), and
`assignment-<case_id>` (every decision on one case, with the candidates considered).

The rotation is an aggregate of its own so that two decisions for one agency, taken at the
same time, append to the same stream: one of them conflicts and decides again on fresh state,
and no handler is picked twice for one turn nor pushed over the monthly cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from shared.aggregate import Aggregate, DomainError, DomainEvent
from shared.contracts import CaseFlags, CaseKind, HandlerKind, HandlerRef
from shared.contracts.assignment import AssignmentMethod

# Months and days are the agency's, not UTC's: a case assigned at 07:00 on the 1st in Beijing
# belongs to the new month (R-ASG-4).
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_MONTHLY_CAP = 5


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def month_of(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


class InvalidField(DomainError):
    """A command names something the registry does not accept; the API reports it as that
    field's validation error."""

    status = 422

    def __init__(self, field: str, message: str, *, rule: str | None = None):
        super().__init__(f"{field}: {message}", rule=rule)
        self.field = field
        self.message = message


# --- the registry ---------------------------------------------------------------------------


class InstitutionKind(StrEnum):
    law_firm = "law_firm"
    grassroots_office = "grassroots_office"


class InstitutionRecruited(DomainEvent):
    institution_id: str
    name: str
    kind: InstitutionKind
    agency_id: str
    district: str
    recruited_at: datetime


class CommitmentSigned(DomainEvent):
    signed_on: date
    valid_until: date
    signed_at: datetime


class Institution(Aggregate):
    """A law firm or grassroots office recruited into an agency's pool (R-PRV-1)."""

    stream_prefix = "institution"

    def __init__(self, id: str):
        super().__init__(id)
        self.recruitment: InstitutionRecruited | None = None
        self.commitments: list[CommitmentSigned] = []

    def recruit(self, *, name: str, kind: InstitutionKind, agency_id: str, district: str, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"institution {self.id} is already recruited")
        self.record(InstitutionRecruited(institution_id=self.id, name=name, kind=kind, agency_id=agency_id,
                                         district=district, recruited_at=at))

    def sign_commitment(self, *, signed_on: date, valid_until: date, at: datetime) -> None:
        """R-PRV-3: the quality commitment letter without which no case is received."""
        if valid_until < signed_on:
            raise InvalidField("valid_until", "must not be before signed_on", rule="R-PRV-3")
        self.record(CommitmentSigned(signed_on=signed_on, valid_until=valid_until, signed_at=at))

    def when_InstitutionRecruited(self, e: InstitutionRecruited) -> None:
        self.recruitment = e

    def when_CommitmentSigned(self, e: CommitmentSigned) -> None:
        self.commitments.append(e)


Institution.handles(InstitutionRecruited, CommitmentSigned)


class HandlerRegistered(DomainEvent):
    handler_id: str
    name: str
    kind: HandlerKind
    licence_number: str | None
    institution_id: str
    agency_id: str  # the pool the handler serves: their institution's agency
    years_of_practice: int
    registered_at: datetime


class Handler(Aggregate):
    """A lawyer, grassroots legal worker or volunteer doing legal-aid work for an institution."""

    stream_prefix = "handler"

    def __init__(self, id: str):
        super().__init__(id)
        self.registration: HandlerRegistered | None = None

    def register(self, *, name: str, kind: HandlerKind, licence_number: str | None, institution: Institution,
                 years_of_practice: int, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"handler {self.id} is already registered")
        if institution.recruitment is None:
            raise InvalidField("institution_id", f"no institution {institution.id}")
        # Lawyers and grassroots legal workers practise under a licence; volunteers may not hold one.
        if kind != HandlerKind.volunteer and not licence_number:
            raise InvalidField("licence_number", f"required for a {kind.value}")
        self.record(HandlerRegistered(handler_id=self.id, name=name, kind=kind, licence_number=licence_number,
                                      institution_id=institution.id,
                                      agency_id=institution.recruitment.agency_id,
                                      years_of_practice=years_of_practice,
                                      registered_at=at))

    def when_HandlerRegistered(self, e: HandlerRegistered) -> None:
        self.registration = e


Handler.handles(HandlerRegistered)


# --- the rotation of one agency's pool ------------------------------------------------------


class TurnTaken(DomainEvent):
    case_id: str
    handler_id: str
    method: AssignmentMethod
    month: str
    counts_toward_cap: bool
    taken_at: datetime


class Rotation(Aggregate):
    """Whose turn it is in an agency's pool (R-ASG-1) and each handler's cases per month (R-ASG-4)."""

    stream_prefix = "rotation"

    def __init__(self, id: str):
        super().__init__(id)
        self.turns = 0
        self.last_turn: dict[str, int] = {}
        self.monthly: dict[tuple[str, str], int] = {}
        self.cases: set[str] = set()

    def cases_in(self, handler_id: str, month: str) -> int:
        return self.monthly.get((handler_id, month), 0)

    def take_turn(self, *, case_id: str, handler_id: str, method: AssignmentMethod, group_case: bool,
                  at: datetime) -> None:
        if case_id in self.cases:
            return  # one case, one turn: a decision told twice is not a second case
        self.record(TurnTaken(case_id=case_id, handler_id=handler_id, method=method, month=month_of(at),
                              counts_toward_cap=not group_case, taken_at=at))

    def when_TurnTaken(self, e: TurnTaken) -> None:
        self.turns += 1
        self.last_turn[e.handler_id] = self.turns
        self.cases.add(e.case_id)
        if e.counts_toward_cap:
            key = (e.handler_id, e.month)
            self.monthly[key] = self.monthly.get(key, 0) + 1


Rotation.handles(TurnTaken)


# --- eligibility ----------------------------------------------------------------------------


class Ineligibility(StrEnum):
    """Why a handler may not take a case now; each names the rule behind it."""

    not_registered = "not_registered"
    inactive = "inactive"
    outside_pool = "outside_pool"  # the handler's institution serves another agency
    no_commitment = "no_commitment"  # R-PRV-3
    commitment_not_in_force = "commitment_not_in_force"  # R-PRV-3: expired, or not yet begun
    monthly_cap_reached = "monthly_cap_reached"  # R-ASG-4

    @property
    def rule(self) -> str | None:
        return {"no_commitment": "R-PRV-3", "commitment_not_in_force": "R-PRV-3",
                "monthly_cap_reached": "R-ASG-4"}.get(self.value)


@dataclass(frozen=True)
class Candidate:
    """A handler as the engine sees them: registry facts joined with their institution's."""

    handler_id: str
    name: str
    kind: HandlerKind
    licence_number: str | None
    institution_id: str
    institution_name: str
    agency_id: str
    active: bool
    commitments: tuple[tuple[date, date], ...]
    registered_order: int

    def ref(self) -> HandlerRef:
        return HandlerRef(handler_id=self.handler_id, name=self.name, kind=self.kind,
                          licence_number=self.licence_number, institution_id=self.institution_id,
                          institution_name=self.institution_name)


class Assessment(BaseModel):
    """One candidate considered for one case, and why they were passed over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    handler_id: str
    eligible: bool
    reasons: list[Ineligibility]
    cases_this_month: int = 0
    last_turn: int | None = None


@dataclass(frozen=True)
class Policy:
    """What the decision depends on besides the pool: the day and the configurable cap."""

    agency_id: str
    at: datetime
    monthly_cap: int = DEFAULT_MONTHLY_CAP
    count_cap: bool = True  # group cases neither count toward the cap nor are barred by it


def assess(candidate: Candidate | None, rotation: Rotation, policy: Policy, *, handler_id: str = "") -> Assessment:
    """Eligible = active, in the agency's pool, with a commitment in force on the assignment
    day (R-PRV-3), below the monthly cap (R-ASG-4)."""
    if candidate is None:
        return Assessment(handler_id=handler_id, eligible=False, reasons=[Ineligibility.not_registered])
    day, month = local_day(policy.at), month_of(policy.at)
    count = rotation.cases_in(candidate.handler_id, month)
    reasons: list[Ineligibility] = []
    if not candidate.active:
        reasons.append(Ineligibility.inactive)
    if candidate.agency_id != policy.agency_id:
        reasons.append(Ineligibility.outside_pool)
    if not candidate.commitments:
        reasons.append(Ineligibility.no_commitment)
    elif not any(signed <= day <= until for signed, until in candidate.commitments):
        reasons.append(Ineligibility.commitment_not_in_force)
    if policy.count_cap and count >= policy.monthly_cap:
        reasons.append(Ineligibility.monthly_cap_reached)
    return Assessment(handler_id=candidate.handler_id, eligible=not reasons, reasons=reasons,
                      cases_this_month=count, last_turn=rotation.last_turn.get(candidate.handler_id))


def rotation_order(pool: Sequence[Candidate], rotation: Rotation) -> list[Candidate]:
    """R-ASG-1: whoever has waited longest since their last case comes first; those never
    assigned before everyone else; ties by registration order. Deterministic, hence auditable."""

    def waited(c: Candidate) -> tuple[int, int]:
        return rotation.last_turn.get(c.handler_id, 0), c.registered_order

    return sorted(pool, key=waited)


# --- one case's assignment ------------------------------------------------------------------


class Grounds(StrEnum):
    """R-ASG-3: why the agency chooses the handler itself instead of the rotation."""

    major_or_sensitive = "major_or_sensitive"
    group_case = "group_case"
    assigned_by_superior = "assigned_by_superior"


class CaseFacts(BaseModel):
    """What assignment knows of a registered case: no personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    flags: CaseFlags

    def grounds(self) -> list[Grounds]:
        return [g for g in Grounds if getattr(self.flags, g.value)]


class CaseAwaitingChoice(DomainEvent):
    case: CaseFacts
    grounds: list[Grounds]
    proposal: str | None
    named_handler: Assessment | None
    candidates: list[Assessment]
    recorded_at: datetime


class HandlerAssigned(DomainEvent):
    case: CaseFacts
    handler: HandlerRef
    method: AssignmentMethod
    reason: str | None
    named_handler: Assessment | None
    candidates: list[Assessment]
    assigned_at: datetime


class AssignmentBlocked(DomainEvent):
    case: CaseFacts
    named_handler: Assessment | None
    candidates: list[Assessment]
    blocked_at: datetime


class AssignmentStatus(StrEnum):
    awaiting_choice = "awaiting_choice"
    assigned = "assigned"
    blocked = "blocked"


class AlreadyAssigned(DomainError):
    status = 409


class NotAwaitingChoice(DomainError):
    status = 409
    rule = "R-ASG-3"


class HandlerNotEligible(DomainError):
    status = 422


MIN_REASON_LENGTH = 5


class CaseAssignment(Aggregate):
    """Every decision taken on one case, with the candidates considered and why each was
    passed over: the record an agency shows when asked why this handler got this case."""

    stream_prefix = "assignment"

    def __init__(self, id: str):
        super().__init__(id)
        self.case: CaseFacts | None = None
        self.status: AssignmentStatus | None = None
        self.handler: HandlerRef | None = None
        self.decisions: list[DomainEvent] = []

    def _policy(self, case: CaseFacts, at: datetime, monthly_cap: int) -> Policy:
        return Policy(agency_id=case.agency_id, at=at, monthly_cap=monthly_cap, count_cap=not case.flags.group_case)

    # commands

    def decide(self, *, case: CaseFacts, pool: Sequence[Candidate], named: Candidate | None, rotation: Rotation,
               at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP) -> None:
        """The engine's decision on a newly registered case (R-ASG-1, R-ASG-2, R-ASG-3)."""
        if self.exists:
            return  # already decided: a redelivered registration changes nothing
        policy = self._policy(case, at, monthly_cap)
        ordered = rotation_order(pool, rotation)
        considered = [assess(c, rotation, policy) for c in ordered]
        first = next((c for c, a in zip(ordered, considered, strict=True) if a.eligible), None)
        named_view = None
        if case.flags.named_handler_id:
            named_view = assess(named, rotation, policy, handler_id=case.flags.named_handler_id)
        named_ok = named is not None and named_view is not None and named_view.eligible
        if grounds := case.grounds():
            proposal = named if named_ok else first
            self.record(CaseAwaitingChoice(case=case, grounds=grounds, proposal=proposal and proposal.handler_id,
                                           named_handler=named_view, candidates=considered, recorded_at=at))
        elif named_ok:
            assert named is not None and named_view is not None
            self.record(HandlerAssigned(case=case, handler=named.ref(), method=AssignmentMethod.named, reason=None,
                                        named_handler=named_view, candidates=[named_view], assigned_at=at))
        elif first is not None:
            reason = None
            if named_view is not None:
                why = ", ".join(r.value for r in named_view.reasons)
                reason = f"named handler {named_view.handler_id} not eligible ({why}); assigned by rotation"
            self.record(HandlerAssigned(case=case, handler=first.ref(), method=AssignmentMethod.rotation,
                                        reason=reason, named_handler=named_view, candidates=considered,
                                        assigned_at=at))
        else:
            self.record(AssignmentBlocked(case=case, named_handler=named_view, candidates=considered, blocked_at=at))

    def choose(self, *, handler_id: str, candidate: Candidate | None, reason: str, rotation: Rotation,
               at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP) -> None:
        """R-ASG-3: the agency picks the handler of a major, group or superior-assigned case,
        and says why; the pick must still be eligible (R-PRV-3, R-ASG-4)."""
        if self.status == AssignmentStatus.assigned:
            assert self.handler is not None
            if self.handler.handler_id == handler_id:
                return  # the same choice sent twice
            raise AlreadyAssigned(f"case {self.id} is already assigned to {self.handler.handler_id}")
        if self.status != AssignmentStatus.awaiting_choice or self.case is None:
            raise NotAwaitingChoice(f"case {self.id} is not awaiting the agency's choice")
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters", rule="R-ASG-3")
        assessment = assess(candidate, rotation, self._policy(self.case, at, monthly_cap), handler_id=handler_id)
        if candidate is None or not assessment.eligible:
            why = ", ".join(r.value for r in assessment.reasons)
            raise HandlerNotEligible(f"handler_id {handler_id} may not take this case: {why}",
                                     rule=next((r.rule for r in assessment.reasons if r.rule), None))
        self.record(HandlerAssigned(case=self.case, handler=candidate.ref(), method=AssignmentMethod.chosen,
                                    reason=reason.strip(), named_handler=None, candidates=[assessment],
                                    assigned_at=at))

    # state changes

    def when_CaseAwaitingChoice(self, e: CaseAwaitingChoice) -> None:
        self.case, self.status = e.case, AssignmentStatus.awaiting_choice
        self.decisions.append(e)

    def when_HandlerAssigned(self, e: HandlerAssigned) -> None:
        self.case, self.status, self.handler = e.case, AssignmentStatus.assigned, e.handler
        self.decisions.append(e)

    def when_AssignmentBlocked(self, e: AssignmentBlocked) -> None:
        self.case, self.status = e.case, AssignmentStatus.blocked
        self.decisions.append(e)


CaseAssignment.handles(CaseAwaitingChoice, HandlerAssigned, AssignmentBlocked)
