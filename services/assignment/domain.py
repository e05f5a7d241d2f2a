"""The assignment of cases (pure: no I/O); the provider registry is in registry.py (its names
are re-exported here).

Streams: `rotation-<agency_id>` (whose turn
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

from services.assignment.registry import (  # noqa: F401
    CommitmentSigned,
    CommitmentWithdrawn,
    Handler,
    HandlerRegistered,
    HandlerReinstated,
    HandlerSuspended,
    Institution,
    InstitutionKind,
    InstitutionRecruited,
    InvalidField,
    Qualification,
    Recruitment,
    RecruitmentMethod,
    UnavailabilityRecorded,
)
from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.contracts import CaseFlags, CaseKind, HandlerKind, HandlerRef
from shared.contracts.assignment import AssignmentMethod, ReleaseCause

# Months and days are the agency's, not UTC's: a case assigned at 07:00 on the 1st in Beijing
# belongs to the new month (R-ASG-4).
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_MONTHLY_CAP = 5
# R-ASG-8 (Legal Aid Law art. 26): lawyers with at least three years of practice.
DEFAULT_SENIOR_YEARS = 3


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def month_of(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


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
        # A case may take several turns, one per handler: a reassignment's new turn is a turn.
        self.cases: set[tuple[str, str]] = set()

    def cases_in(self, handler_id: str, month: str) -> int:
        return self.monthly.get((handler_id, month), 0)

    def take_turn(self, *, case_id: str, handler_id: str, method: AssignmentMethod, group_case: bool,
                  at: datetime) -> None:
        if (case_id, handler_id) in self.cases:
            return  # one case, one turn per handler: a decision told twice is not a second case
        self.record(TurnTaken(case_id=case_id, handler_id=handler_id, method=method, month=month_of(at),
                              counts_toward_cap=not group_case, taken_at=at))

    def when_TurnTaken(self, e: TurnTaken) -> None:
        self.turns += 1
        self.last_turn[e.handler_id] = self.turns
        self.cases.add((e.case_id, e.handler_id))
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
    suspended = "suspended"  # R-SAN-2, R-ASG-6
    unavailable = "unavailable"
    outside_practice_areas = "outside_practice_areas"
    too_little_experience = "too_little_experience"  # R-ASG-8: possible death penalty or life imprisonment
    not_qualified_for_minors = "not_qualified_for_minors"  # R-ASG-8
    conflict_of_interest = "conflict_of_interest"  # acted for an adverse party of this case
    released_from_case = "released_from_case"  # the handler this case was taken from

    @property
    def rule(self) -> str | None:
        return {"no_commitment": "R-PRV-3", "commitment_not_in_force": "R-PRV-3",
                "monthly_cap_reached": "R-ASG-4", "suspended": "R-ASG-6",
                "too_little_experience": "R-ASG-8", "not_qualified_for_minors": "R-ASG-8"}.get(self.value)


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
    years_of_practice: int = 0
    practice_areas: frozenset[CaseKind] = frozenset()
    qualifications: frozenset[Qualification] = frozenset()
    # (suspension id, last day or None for "until reinstated")
    suspensions: tuple[date | None, ...] = ()
    unavailable: tuple[tuple[date, date], ...] = ()
    # Keyed hashes of the aided persons the handler, or their institution, acted for.
    represented_parties: frozenset[str] = frozenset()

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
    case_kind: CaseKind | None = None
    needs_senior: bool = False  # R-ASG-8: possible death penalty or life imprisonment
    needs_minors_qualification: bool = False  # R-ASG-8
    senior_years: int = DEFAULT_SENIOR_YEARS
    adverse_parties: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()  # handlers released from this case


def assess(candidate: Candidate | None, rotation: Rotation, policy: Policy, *, handler_id: str = "") -> Assessment:
    """Eligible = active, in the agency's pool, with a commitment in force on the assignment
    day (R-PRV-3), below the monthly cap (R-ASG-4), not suspended (R-ASG-6), available,
    qualified for the case (R-ASG-8), free of conflict, and not released from this case."""
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
    if any(until is None or day <= until for until in candidate.suspensions):
        reasons.append(Ineligibility.suspended)
    if any(start <= day <= end for start, end in candidate.unavailable):
        reasons.append(Ineligibility.unavailable)
    if policy.case_kind and candidate.practice_areas and policy.case_kind not in candidate.practice_areas:
        reasons.append(Ineligibility.outside_practice_areas)
    if policy.needs_senior and (candidate.kind != HandlerKind.lawyer
                                or candidate.years_of_practice < policy.senior_years):
        reasons.append(Ineligibility.too_little_experience)
    if policy.needs_minors_qualification and Qualification.minors not in candidate.qualifications:
        reasons.append(Ineligibility.not_qualified_for_minors)
    if candidate.represented_parties & policy.adverse_parties:
        reasons.append(Ineligibility.conflict_of_interest)
    if candidate.handler_id in policy.excluded:
        reasons.append(Ineligibility.released_from_case)
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
    # Keyed hashes (intake's HMAC): whom the case is against, and whom it is for.
    adverse_party_hashes: list[str] = []
    aided_person_hash: str | None = None
    # The notifying organ's system (通知辩护): that organ, and only it, may read whom the case was
    # assigned to (R-ASG-7). None when the agency registered the case itself.
    source_system: str | None = None

    def grounds(self) -> list[Grounds]:
        return [g for g in Grounds if getattr(self.flags, g.value)]


class CaseAwaitingChoice(DomainEvent):
    case: CaseFacts
    grounds: list[Grounds]
    proposal: str | None
    named_handler: Assessment | None
    candidates: list[Assessment]
    rules_version: int | None = None  # the agency's published rules applied (R-ASG-5)
    recorded_at: datetime


class HandlerAssigned(DomainEvent):
    case: CaseFacts
    handler: HandlerRef
    method: AssignmentMethod
    reason: str | None
    named_handler: Assessment | None
    candidates: list[Assessment]
    rules_version: int | None = None  # the agency's published rules applied (R-ASG-5)
    assigned_at: datetime


class AssignmentBlocked(DomainEvent):
    case: CaseFacts
    named_handler: Assessment | None
    candidates: list[Assessment]
    rules_version: int | None = None  # the agency's published rules applied (R-ASG-5)
    blocked_at: datetime


class HandlerReleased(DomainEvent):
    """The handler no longer handles the case: the aided person's accepted request for another
    (reassignment) or the end of legal aid (termination). The turn taken stays taken."""

    case_id: str
    handler: HandlerRef
    cause: ReleaseCause
    reason: str
    released_at: datetime


class AssignmentEnded(DomainEvent):
    """Legal aid ended before anyone was assigned (the case was awaiting a choice or blocked)."""

    case_id: str
    reason: str
    ended_at: datetime


class AssignmentStatus(StrEnum):
    awaiting_choice = "awaiting_choice"
    assigned = "assigned"
    blocked = "blocked"
    released = "released"  # legal aid ended: no one handles the case any more


class AlreadyAssigned(Conflict):
    pass


class NotAwaitingChoice(Conflict):
    rule = "R-ASG-3"


class HandlerNotEligible(Invalid):
    pass


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
        self.released: list[str] = []
        self.rules_version: int | None = None  # of the command in hand, not folded from events
        self.decisions: list[DomainEvent] = []

    def _policy(self, case: CaseFacts, at: datetime, monthly_cap: int,
                senior_years: int = DEFAULT_SENIOR_YEARS) -> Policy:
        return Policy(agency_id=case.agency_id, at=at, monthly_cap=monthly_cap, count_cap=not case.flags.group_case,
                      case_kind=case.case_kind, needs_senior=case.flags.possible_death_penalty_or_life_imprisonment,
                      needs_minors_qualification=case.flags.minor, senior_years=senior_years,
                      adverse_parties=frozenset(case.adverse_party_hashes), excluded=frozenset(self.released))

    # commands

    def decide(self, *, case: CaseFacts, pool: Sequence[Candidate], named: Candidate | None, rotation: Rotation,
               at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
               rules_version: int | None = None) -> None:
        """The engine's decision on a newly registered case (R-ASG-1, R-ASG-2, R-ASG-3)."""
        if self.exists:
            return  # already decided: a redelivered registration changes nothing
        self.rules_version = rules_version
        self._decide(case=case, pool=pool, named=named, rotation=rotation, at=at, monthly_cap=monthly_cap,
                     senior_years=senior_years)

    def reassign(self, *, current_handler_id: str, reason: str, pool: Sequence[Candidate], named: Candidate | None,
                 rotation: Rotation, at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP,
                 senior_years: int = DEFAULT_SENIOR_YEARS,
               rules_version: int | None = None) -> None:
        """The aided person's accepted request for another handler: release the current one and
        decide again by the same rules, without them. The released handler's turn stays taken
        and their case still counts toward their month: they received it (R-ASG-4)."""
        if self.case is None or self.handler is None or self.handler.handler_id != current_handler_id:
            return  # already reassigned (a redelivered request), or no longer theirs
        self.rules_version = rules_version
        self.record(HandlerReleased(case_id=self.id, handler=self.handler, cause=ReleaseCause.reassignment,
                                    reason=reason, released_at=at))
        self._decide(case=self.case, pool=pool, named=named, rotation=rotation, at=at, monthly_cap=monthly_cap,
                     senior_years=senior_years)

    def terminate(self, *, reason: str, at: datetime) -> None:
        """Legal aid ended (终止): the handler is released and no one replaces them."""
        if self.status == AssignmentStatus.released or self.case is None:
            return
        if self.handler is not None:
            self.record(HandlerReleased(case_id=self.id, handler=self.handler, cause=ReleaseCause.termination,
                                        reason=reason, released_at=at))
        else:
            self.record(AssignmentEnded(case_id=self.id, reason=reason, ended_at=at))

    def _decide(self, *, case: CaseFacts, pool: Sequence[Candidate], named: Candidate | None, rotation: Rotation,
                at: datetime, monthly_cap: int, senior_years: int) -> None:
        policy = self._policy(case, at, monthly_cap, senior_years)
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
                                           named_handler=named_view, candidates=considered, recorded_at=at,
                                           rules_version=self.rules_version))
        elif named_ok:
            assert named is not None and named_view is not None
            self.record(HandlerAssigned(case=case, handler=named.ref(), method=AssignmentMethod.named, reason=None,
                                        named_handler=named_view, candidates=[named_view], assigned_at=at,
                                        rules_version=self.rules_version))
        elif first is not None:
            reason = None
            if named_view is not None:
                why = ", ".join(r.value for r in named_view.reasons)
                reason = f"named handler {named_view.handler_id} not eligible ({why}); assigned by rotation"
            self.record(HandlerAssigned(case=case, handler=first.ref(), method=AssignmentMethod.rotation,
                                        reason=reason, named_handler=named_view, candidates=considered,
                                        assigned_at=at, rules_version=self.rules_version))
        else:
            self.record(AssignmentBlocked(case=case, named_handler=named_view, candidates=considered, blocked_at=at,
                                          rules_version=self.rules_version))

    def choose(self, *, handler_id: str, candidate: Candidate | None, reason: str, rotation: Rotation,
               at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
               rules_version: int | None = None) -> None:
        """R-ASG-3: the agency picks the handler of a major, group or superior-assigned case,
        and says why; the pick must still be eligible (R-PRV-3, R-ASG-4)."""
        if self.status == AssignmentStatus.assigned:
            assert self.handler is not None
            if self.handler.handler_id == handler_id:
                return  # the same choice sent twice
            raise AlreadyAssigned("the case is already assigned to another handler")
        if self.status != AssignmentStatus.awaiting_choice or self.case is None:
            raise NotAwaitingChoice("the case is not awaiting the agency's choice")
        self.rules_version = rules_version
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters", rule="R-ASG-3")
        assessment = assess(candidate, rotation, self._policy(self.case, at, monthly_cap, senior_years),
                            handler_id=handler_id)
        if candidate is None or not assessment.eligible:
            why = ", ".join(r.value for r in assessment.reasons)
            raise HandlerNotEligible(f"the handler_id given may not take this case: {why}",
                                     rule=next((r.rule for r in assessment.reasons if r.rule), None))
        self.record(HandlerAssigned(case=self.case, handler=candidate.ref(), method=AssignmentMethod.chosen,
                                    reason=reason.strip(), named_handler=None, candidates=[assessment],
                                    assigned_at=at, rules_version=self.rules_version))

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

    def when_HandlerReleased(self, e: HandlerReleased) -> None:
        self.released.append(e.handler.handler_id)
        self.handler = None
        if e.cause == ReleaseCause.termination:
            self.status = AssignmentStatus.released
        self.decisions.append(e)

    def when_AssignmentEnded(self, e: AssignmentEnded) -> None:
        self.status = AssignmentStatus.released
        self.decisions.append(e)


CaseAssignment.handles(CaseAwaitingChoice, HandlerAssigned, AssignmentBlocked, HandlerReleased, AssignmentEnded)
