"""Who may take a case now, and in which order (pure: no I/O): a candidate as the engine sees
them, the policy of one decision, each candidate's assessment with the rules that pass them
over, and the order of the rotation (R-ASG-1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.assignment.domain.registry import Qualification
from services.assignment.domain.rotation import Rotation
from shared.clock import local_date, local_month
from shared.contracts import CaseKind, HandlerKind, HandlerRef

DEFAULT_MONTHLY_CAP = 5
# R-ASG-8 (Legal Aid Law art. 26): lawyers with at least three years of practice.
DEFAULT_SENIOR_YEARS = 3


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
    # The handler, or their institution, acted for an adverse party of this case before.
    conflict_of_interest = "conflict_of_interest"
    # The handler, or their institution, acted against this case's aided person before (the aided
    # person was an adverse party in one of their cases).
    conflict_acted_against_aided_person = "conflict_acted_against_aided_person"
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
    # Keyed hashes of the adverse parties of the cases the handler, or their institution, handled:
    # whom they acted against.
    opposed_parties: frozenset[str] = frozenset()

    def ref(self) -> HandlerRef:
        return HandlerRef(handler_id=self.handler_id, name=self.name, kind=self.kind,
                          licence_number=self.licence_number, institution_id=self.institution_id,
                          institution_name=self.institution_name)


@dataclass(frozen=True)
class InstitutionFacts:
    """An institution as the agency sees it when it gives a case to it (R-ASG-3, R-PRV-4)."""

    institution_id: str
    name: str
    agency_id: str
    commitments: tuple[tuple[date, date], ...]

    def commitment_in_force(self, day: date) -> bool:
        return any(signed <= day <= until for signed, until in self.commitments)


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
    aided_person: str | None = None  # the aided person's keyed hash
    excluded: frozenset[str] = frozenset()  # handlers released from this case


def assess(candidate: Candidate | None, rotation: Rotation, policy: Policy, *,
           handler_id: str = "") -> Assessment:
    """Eligible = active, in the agency's pool, with a commitment in force on the assignment
    day (R-PRV-3), below the monthly cap (R-ASG-4), not suspended (R-ASG-6), available,
    qualified for the case (R-ASG-8), free of conflict both ways (neither they nor their
    institution acted for an adverse party of this case, nor against its aided person), and not
    released from this case. Days and months are Beijing's, not UTC's."""
    if candidate is None:
        return Assessment(handler_id=handler_id, eligible=False, reasons=[Ineligibility.not_registered])
    day, month = local_date(policy.at), local_month(policy.at)
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
    if policy.aided_person is not None and policy.aided_person in candidate.opposed_parties:
        reasons.append(Ineligibility.conflict_acted_against_aided_person)
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
