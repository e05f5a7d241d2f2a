"""One case's assignment (pure: no I/O). Stream: `assignment-<case_id>`: every decision on one
case, with the candidates considered and why each was passed over (R-ASG-1, R-ASG-2, R-ASG-3),
the case given to an institution and the person it arranged (R-PRV-4), the handler's release on
reassignment or termination."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.assignment.domain.eligibility import (
    DEFAULT_MONTHLY_CAP,
    DEFAULT_SENIOR_YEARS,
    Assessment,
    Candidate,
    InstitutionFacts,
    Policy,
    assess,
    rotation_order,
)
from services.assignment.domain.registry import InvalidField
from services.assignment.domain.rotation import Rotation
from shared.aggregate import Aggregate, Conflict, DomainEvent, Forbidden, Invalid
from shared.clock import local_date
from shared.contracts import CaseFlags, CaseKind, HandlerRef
from shared.contracts.assignment import AssignmentMethod, DeclineReason, ReleaseCause


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


class CaseGivenToInstitution(DomainEvent):
    """The agency gives a case awaiting its choice to an institution, which arranges one of its
    handlers by `due_at` (R-ASG-3, R-PRV-4)."""

    case_id: str
    institution_id: str
    institution_name: str
    reason: str
    due_at: datetime
    given_at: datetime


class CaseTakenBackFromInstitution(DomainEvent):
    """The agency takes back a case its institution has not arranged anyone for; the rotation
    decides next (its HandlerAssigned or AssignmentBlocked follows)."""

    case_id: str
    institution_id: str
    reason: str
    overdue: bool
    taken_back_at: datetime


class HandlerReleased(DomainEvent):
    """The handler no longer handles the case: the aided person's accepted request for another
    (reassignment) or the end of legal aid (termination). The turn taken stays taken."""

    case_id: str
    handler: HandlerRef
    cause: ReleaseCause
    reason: str
    released_at: datetime


class HandlerDeclined(DomainEvent):
    """The assigned handler declined the case, with a reason (and their explanation, kept here
    only: it is free text); the case is decided again without them."""

    case_id: str
    handler: HandlerRef
    reason: DeclineReason
    explanation: str
    declined_at: datetime


class AssignmentEnded(DomainEvent):
    """Legal aid ended before anyone was assigned (the case was awaiting a choice or blocked)."""

    case_id: str
    reason: str
    ended_at: datetime


class AssignmentStatus(StrEnum):
    awaiting_choice = "awaiting_choice"
    awaiting_institution = "awaiting_institution"  # given to an institution, which arranges a person
    assigned = "assigned"
    blocked = "blocked"
    released = "released"  # legal aid ended: no one handles the case any more


class AlreadyAssigned(Conflict):
    pass


class NotAwaitingChoice(Conflict):
    rule = "R-ASG-3"


class NotAwaitingInstitution(Conflict):
    rule = "R-PRV-4"


class HandlerNotEligible(Invalid):
    pass


class InstitutionNotEligible(Invalid):
    pass


def arrangement_due(given_at: datetime, hours: float) -> datetime:
    """When an institution must have arranged a person (R-PRV-4, "promptly"): a number of hours
    after it was given the case, round the clock. Hours, not working days: a working-day count
    needs the official calendar, which intake keeps (shared.calendar), not assignment."""
    return (given_at + timedelta(hours=hours)).astimezone(UTC)
class NotYourCase(Forbidden):
    """Only the handler the case is assigned to may decline it."""


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
        self.declined: list[str] = []
        self.rules_version: int | None = None  # of the command in hand, not folded from events
        self.institution_id: str | None = None  # given to it, awaiting the person it arranges
        self.institution_name: str | None = None
        self.due_at: datetime | None = None
        self.decisions: list[DomainEvent] = []

    def _policy(self, case: CaseFacts, at: datetime, monthly_cap: int,
                senior_years: int = DEFAULT_SENIOR_YEARS) -> Policy:
        return Policy(agency_id=case.agency_id, at=at, monthly_cap=monthly_cap,
                      count_cap=not case.flags.group_case, case_kind=case.case_kind,
                      needs_senior=case.flags.possible_death_penalty_or_life_imprisonment,
                      needs_minors_qualification=case.flags.minor, senior_years=senior_years,
                      adverse_parties=frozenset(case.adverse_party_hashes),
                      aided_person=case.aided_person_hash, excluded=frozenset(self.released))

    # commands

    def decide(self, *, case: CaseFacts, pool: Sequence[Candidate], named: Candidate | None,
               rotation: Rotation, at: datetime, monthly_cap: int = DEFAULT_MONTHLY_CAP,
               senior_years: int = DEFAULT_SENIOR_YEARS, rules_version: int | None = None) -> None:
        """The engine's decision on a newly registered case (R-ASG-1, R-ASG-2, R-ASG-3)."""
        if self.exists:
            return  # already decided: a redelivered registration changes nothing
        self.rules_version = rules_version
        self._decide(case=case, pool=pool, named=named, rotation=rotation, at=at, monthly_cap=monthly_cap,
                     senior_years=senior_years)

    def reassign(self, *, current_handler_id: str, reason: str, pool: Sequence[Candidate],
                 named: Candidate | None, rotation: Rotation, at: datetime,
                 monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
                 rules_version: int | None = None) -> None:
        """The aided person's accepted request for another handler: release the current one and
        decide again by the same rules, without them. The released handler's turn stays taken
        and their case still counts toward their month: they received it (R-ASG-4)."""
        if self.case is None or self.handler is None or self.handler.handler_id != current_handler_id:
            return  # already reassigned (a redelivered request), or no longer theirs
        self.rules_version = rules_version
        self.record(HandlerReleased(case_id=self.id, handler=self.handler, cause=ReleaseCause.reassignment,
                                    reason=reason, released_at=at))
        self._decide(case=self.case, pool=pool, named=named, rotation=rotation, at=at,
                     monthly_cap=monthly_cap, senior_years=senior_years)

    def decline(self, *, handler_id: str, reason: DeclineReason, explanation: str,
                pool: Sequence[Candidate], named: Candidate | None, rotation: Rotation, at: datetime,
                monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
                rules_version: int | None = None) -> None:
        """The assigned handler declines the case, with a reason: they are released and the case
        is decided again by the same rules, without them (as on reassignment). Their rotation
        turn stays taken and the case still counts toward their month (R-ASG-4): declining does
        not move them up the rotation nor free a place under the cap. Declining again is a
        no-op."""
        if handler_id in self.declined:
            return  # the same decline sent twice
        if self.case is None or self.handler is None or self.handler.handler_id != handler_id:
            raise NotYourCase("the case is not assigned to you")
        if len(explanation.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("explanation", f"state why, in at least {MIN_REASON_LENGTH} characters")
        self.rules_version = rules_version
        self.record(HandlerDeclined(case_id=self.id, handler=self.handler, reason=reason,
                                    explanation=explanation.strip(), declined_at=at))
        self._decide(case=self.case, pool=pool, named=named, rotation=rotation, at=at,
                     monthly_cap=monthly_cap, senior_years=senior_years)

    def terminate(self, *, reason: str, at: datetime) -> None:
        """Legal aid ended (终止): the handler is released and no one replaces them."""
        if self.status == AssignmentStatus.released or self.case is None:
            return
        if self.handler is not None:
            self.record(HandlerReleased(case_id=self.id, handler=self.handler, cause=ReleaseCause.termination,
                                        reason=reason, released_at=at))
        else:
            self.record(AssignmentEnded(case_id=self.id, reason=reason, ended_at=at))

    def _decide(self, *, case: CaseFacts, pool: Sequence[Candidate], named: Candidate | None,
                rotation: Rotation, at: datetime, monthly_cap: int, senior_years: int) -> None:
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
            self.record(CaseAwaitingChoice(case=case, grounds=grounds,
                                           proposal=proposal and proposal.handler_id,
                                           named_handler=named_view, candidates=considered, recorded_at=at,
                                           rules_version=self.rules_version))
        elif named_ok:
            assert named is not None and named_view is not None
            self.record(HandlerAssigned(case=case, handler=named.ref(), method=AssignmentMethod.named,
                                        reason=None, named_handler=named_view, candidates=[named_view],
                                        assigned_at=at, rules_version=self.rules_version))
        elif first is not None:
            reason = None
            if named_view is not None:
                why = ", ".join(r.value for r in named_view.reasons)
                reason = f"named handler {named_view.handler_id} not eligible ({why}); assigned by rotation"
            self.record(HandlerAssigned(case=case, handler=first.ref(), method=AssignmentMethod.rotation,
                                        reason=reason, named_handler=named_view, candidates=considered,
                                        assigned_at=at, rules_version=self.rules_version))
        else:
            self.record(AssignmentBlocked(case=case, named_handler=named_view, candidates=considered,
                                          blocked_at=at, rules_version=self.rules_version))

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
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters",
                               rule="R-ASG-3")
        assessment = assess(candidate, rotation, self._policy(self.case, at, monthly_cap, senior_years),
                            handler_id=handler_id)
        if candidate is None or not assessment.eligible:
            why = ", ".join(r.value for r in assessment.reasons)
            raise HandlerNotEligible(f"the handler_id given may not take this case: {why}",
                                     rule=next((r.rule for r in assessment.reasons if r.rule), None))
        self.record(HandlerAssigned(case=self.case, handler=candidate.ref(), method=AssignmentMethod.chosen,
                                    reason=reason.strip(), named_handler=None, candidates=[assessment],
                                    assigned_at=at, rules_version=self.rules_version))

    def give_to_institution(self, *, institution: InstitutionFacts | None, institution_id: str, reason: str,
                            due_at: datetime, at: datetime) -> None:
        """R-ASG-3 with R-PRV-4: instead of a person, the agency gives the case to an institution of
        its pool with a commitment in force (R-PRV-3), and says why; the institution arranges
        one of its handlers by `due_at`."""
        if self.status == AssignmentStatus.awaiting_institution and self.institution_id == institution_id:
            return  # the same decision sent twice
        if self.status == AssignmentStatus.assigned:
            raise AlreadyAssigned("the case is already assigned to a handler")
        if self.status != AssignmentStatus.awaiting_choice or self.case is None:
            raise NotAwaitingChoice("the case is not awaiting the agency's choice")
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters",
                               rule="R-ASG-3")
        if institution is None:
            raise InvalidField("institution_id", "no institution with this institution_id")
        if institution.agency_id != self.case.agency_id:
            raise InstitutionNotEligible("the institution_id given serves another agency's pool "
                                         "(outside_pool)", rule="R-ASG-3")
        if not institution.commitment_in_force(local_date(at)):
            raise InstitutionNotEligible("the institution_id given has no quality commitment in force "
                                         "(commitment_not_in_force)", rule="R-PRV-3")
        self.record(CaseGivenToInstitution(case_id=self.id, institution_id=institution.institution_id,
                                           institution_name=institution.name, reason=reason.strip(),
                                           due_at=due_at, given_at=at))

    def arrange(self, *, institution_id: str, handler_id: str, candidate: Candidate | None,
                staff: Sequence[Candidate], reason: str, rotation: Rotation, at: datetime,
                monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
                rules_version: int | None = None) -> None:
        """R-PRV-4: the institution given the case arranges one of its handlers, by the same rules
        as the rotation (commitment, cap, suspension, qualification, availability, conflicts both
        ways). The record keeps every one of its handlers considered, with why each could or
        could not take the case."""
        if self.status == AssignmentStatus.assigned:
            assert self.handler is not None
            if self.handler.handler_id == handler_id and self.handler.institution_id == institution_id:
                return  # the same arrangement sent twice
            raise AlreadyAssigned("the case is already assigned to a handler")
        if (self.status != AssignmentStatus.awaiting_institution or self.case is None
                or self.institution_id != institution_id):
            raise NotAwaitingInstitution("the case is not awaiting a person from this institution")
        self.rules_version = rules_version
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters",
                               rule="R-PRV-4")
        if candidate is None or candidate.institution_id != institution_id:
            raise InvalidField("handler_id", "no handler of this institution with this handler_id",
                               rule="R-PRV-4")
        policy = self._policy(self.case, at, monthly_cap, senior_years)
        considered = [assess(c, rotation, policy) for c in rotation_order(staff, rotation)]
        if all(a.handler_id != handler_id for a in considered):
            considered.append(assess(candidate, rotation, policy))
        assessment = next(a for a in considered if a.handler_id == handler_id)
        if not assessment.eligible:
            why = ", ".join(r.value for r in assessment.reasons)
            raise HandlerNotEligible(f"the handler_id given may not take this case: {why}",
                                     rule=next((r.rule for r in assessment.reasons if r.rule), "R-PRV-4"))
        self.record(HandlerAssigned(case=self.case, handler=candidate.ref(), method=AssignmentMethod.arranged,
                                    reason=reason.strip(), named_handler=None, candidates=considered,
                                    assigned_at=at, rules_version=self.rules_version))

    def take_back(self, *, reason: str, pool: Sequence[Candidate], rotation: Rotation, at: datetime,
                  monthly_cap: int = DEFAULT_MONTHLY_CAP, senior_years: int = DEFAULT_SENIOR_YEARS,
                  rules_version: int | None = None) -> None:
        """The agency takes back a case its institution has not arranged anyone for (typically
        once overdue) and assigns it by rotation over its pool, by the same rules (R-ASG-1); no
        one eligible blocks it, as any decision."""
        if self.status != AssignmentStatus.awaiting_institution or self.case is None:
            raise NotAwaitingInstitution("the case is not awaiting a person from an institution")
        if len(reason.strip()) < MIN_REASON_LENGTH:
            raise InvalidField("reason", f"state why, in at least {MIN_REASON_LENGTH} characters",
                               rule="R-PRV-4")
        assert self.institution_id is not None and self.due_at is not None
        self.rules_version = rules_version
        self.record(CaseTakenBackFromInstitution(case_id=self.id, institution_id=self.institution_id,
                                                 reason=reason.strip(), overdue=at >= self.due_at,
                                                 taken_back_at=at))
        case = self.case
        policy = self._policy(case, at, monthly_cap, senior_years)
        ordered = rotation_order(pool, rotation)
        considered = [assess(c, rotation, policy) for c in ordered]
        first = next((c for c, a in zip(ordered, considered, strict=True) if a.eligible), None)
        if first is not None:
            self.record(HandlerAssigned(case=case, handler=first.ref(), method=AssignmentMethod.rotation,
                                        reason=f"taken back from the institution: {reason.strip()}",
                                        named_handler=None, candidates=considered, assigned_at=at,
                                        rules_version=self.rules_version))
        else:
            self.record(AssignmentBlocked(case=case, named_handler=None, candidates=considered,
                                          blocked_at=at, rules_version=self.rules_version))

    # state changes

    def when_CaseAwaitingChoice(self, e: CaseAwaitingChoice) -> None:
        self.case, self.status = e.case, AssignmentStatus.awaiting_choice
        self.decisions.append(e)

    def when_HandlerAssigned(self, e: HandlerAssigned) -> None:
        self.case, self.status, self.handler = e.case, AssignmentStatus.assigned, e.handler
        self.institution_id = self.institution_name = self.due_at = None
        self.decisions.append(e)

    def when_CaseGivenToInstitution(self, e: CaseGivenToInstitution) -> None:
        self.status = AssignmentStatus.awaiting_institution
        self.institution_id, self.institution_name = e.institution_id, e.institution_name
        self.due_at = e.due_at
        self.decisions.append(e)

    def when_CaseTakenBackFromInstitution(self, e: CaseTakenBackFromInstitution) -> None:
        self.status = AssignmentStatus.awaiting_choice
        self.institution_id = self.institution_name = self.due_at = None
        self.decisions.append(e)

    def when_AssignmentBlocked(self, e: AssignmentBlocked) -> None:
        self.case, self.status = e.case, AssignmentStatus.blocked
        self.institution_id = self.institution_name = self.due_at = None
        self.decisions.append(e)

    def when_HandlerReleased(self, e: HandlerReleased) -> None:
        self.released.append(e.handler.handler_id)
        self.handler = None
        if e.cause == ReleaseCause.termination:
            self.status = AssignmentStatus.released
        self.decisions.append(e)

    def when_HandlerDeclined(self, e: HandlerDeclined) -> None:
        self.released.append(e.handler.handler_id)
        self.declined.append(e.handler.handler_id)
        self.handler = None
        self.decisions.append(e)

    def when_AssignmentEnded(self, e: AssignmentEnded) -> None:
        self.status = AssignmentStatus.released
        self.institution_id = self.institution_name = self.due_at = None
        self.decisions.append(e)


CaseAssignment.handles(CaseAwaitingChoice, HandlerAssigned, AssignmentBlocked, HandlerReleased,
                       AssignmentEnded, CaseGivenToInstitution, CaseTakenBackFromInstitution,
                       HandlerDeclined)
