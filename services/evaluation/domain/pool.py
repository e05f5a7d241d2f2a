"""The expert pool (评估专家库, R-EVL-6): the reviewers evaluation draws on, from a registry the
bureau keeps (never typed per case), with what decides who may read which file: licence, years
of practice, fields, region and institution, training dates and discipline record. The stream
is `expert-<reviewer_id>`; the reviewer_id is the one their tokens carry.

Two checks live here, both pure:
- `QualificationRule.refusals`: whether an expert qualifies for a file (R-EVL-6; configurable:
  default 5+ years of practice, the case's field, no discipline in the last 3 years, trained
  before the round opens);
- `avoidance`: whether an expert must not read a file (R-EVL-4, R-EVL-6): never their own case,
  never a case of their own institution, never a case of an agency that assigns them cases
  (regional avoidance), and, by default, never a case closed in their own district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound
from shared.contracts import CaseKind


class PracticeField(StrEnum):
    """The fields an expert practises in; a non-litigation matter is read as civil."""

    criminal = "criminal"
    civil = "civil"
    administrative = "administrative"


FIELD_OF_KIND: dict[CaseKind, PracticeField] = {
    CaseKind.criminal: PracticeField.criminal,
    CaseKind.civil: PracticeField.civil,
    CaseKind.administrative: PracticeField.administrative,
    CaseKind.non_litigation: PracticeField.civil,
}


class ExpertProfile(BaseModel):
    """What the registry says of an expert (all of it, each time it is recorded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=100)
    licence_number: str = Field(max_length=40)
    practising_since: date
    fields: tuple[PracticeField, ...]
    district: str = Field(max_length=60, description="The region (district) the expert practises in")
    institution_id: str = Field(max_length=64)
    institution_name: str = Field(max_length=200)
    assigning_agencies: tuple[str, ...] = Field(
        default=(), description="Agencies that assign the expert legal-aid cases (regional avoidance)"
    )
    trained_on: tuple[date, ...] = Field(default=(), description="Dates of the evaluation training taken")
    disciplined_on: tuple[date, ...] = Field(default=(), description="Dates of disciplinary sanctions")
    active: bool = True


@dataclass(frozen=True)
class Candidate:
    """What avoidance and qualification need of a file: its case, handler and kind."""

    case_id: str
    case_kind: CaseKind
    agency_id: str
    district: str
    handler_id: str
    institution_id: str


def years_between(since: date, on: date) -> int:
    """Whole years from `since` to `on` (a birthday-style count)."""
    return on.year - since.year - ((on.month, on.day) < (since.month, since.day))


@dataclass(frozen=True)
class QualificationRule:
    """R-EVL-6's qualification, configurable (settings): who may read a file of a round."""

    min_years: int = 5
    same_field: bool = True
    discipline_free_years: int = 3
    trained_before_round: bool = True

    def refusals(self, reviewer_id: str, expert: ExpertProfile, kind: CaseKind, opens_on: date) -> list[str]:
        """Why the expert does not qualify for a file of this kind in a round opening on
        `opens_on` (none: they qualify)."""
        found: list[str] = []
        if not expert.active:
            found.append("not active in the pool")
        if years_between(expert.practising_since, opens_on) < self.min_years:
            found.append(f"fewer than {self.min_years} years of practice")
        if self.same_field and FIELD_OF_KIND[kind] not in expert.fields:
            found.append(f"does not practise in the {FIELD_OF_KIND[kind]} field")
        recent = [
            d
            for d in expert.disciplined_on
            if d <= opens_on and years_between(d, opens_on) < self.discipline_free_years
        ]
        if self.discipline_free_years and recent:
            found.append(f"disciplined within the last {self.discipline_free_years} years")
        if self.trained_before_round and not any(d <= opens_on for d in expert.trained_on):
            found.append("not trained before the round opens")
        return found


def avoidance(
    reviewer_id: str, expert: ExpertProfile, file: Candidate, *, by_district: bool = True
) -> list[str]:
    """R-EVL-4, R-EVL-6: why the expert must not read this file (none: they may)."""
    found: list[str] = []
    if reviewer_id == file.handler_id:
        found.append("their own case")
    if expert.institution_id == file.institution_id:
        found.append("a case of their own institution")
    if file.agency_id in expert.assigning_agencies:
        found.append("a case of an agency that assigns them cases")
    if by_district and expert.district == file.district:
        found.append("a case of their own district")
    return found


# --- events -------------------------------------------------------------------------------


class ExpertRegistered(DomainEvent):
    reviewer_id: str
    profile: ExpertProfile
    by: str
    at: datetime


class ExpertUpdated(DomainEvent):
    reviewer_id: str
    profile: ExpertProfile
    by: str
    at: datetime


class ExpertAlreadyRegistered(Conflict):
    rule = "R-EVL-6"


class UnknownExpert(NotFound):
    pass


# --- the aggregate ------------------------------------------------------------------------


class Expert(Aggregate):
    """An expert of the pool; the id is their reviewer_id."""

    stream_prefix = "expert"

    def __init__(self, id: str):
        super().__init__(id)
        self.profile: ExpertProfile | None = None

    def register(self, *, profile: ExpertProfile, by: str, at: datetime) -> None:
        if self.exists:
            raise ExpertAlreadyRegistered(f"expert {self.id} is already in the pool")
        self.record(ExpertRegistered(reviewer_id=self.id, profile=profile, by=by, at=at))

    def update(self, *, profile: ExpertProfile, by: str, at: datetime) -> bool:
        """Record the expert's profile as it now is; the same profile again changes nothing."""
        if not self.exists:
            raise UnknownExpert(f"no expert {self.id} in the pool")
        if profile == self.profile:
            return False
        self.record(ExpertUpdated(reviewer_id=self.id, profile=profile, by=by, at=at))
        return True

    def when_ExpertRegistered(self, e: ExpertRegistered) -> None:
        self.profile = e.profile

    def when_ExpertUpdated(self, e: ExpertUpdated) -> None:
        self.profile = e.profile


Expert.handles(ExpertRegistered, ExpertUpdated)
