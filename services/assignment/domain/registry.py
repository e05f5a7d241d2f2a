"""The provider registry (pure: no I/O): institutions recruited into an agency's pool and their
quality commitments (R-PRV-1, R-PRV-3), and handlers with what eligibility reads of them
(R-ASG-8 qualifications, suspensions R-ASG-6, unavailability, a volunteer's own commitment).
Streams: `institution-<id>` and `handler-<id>`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.aggregate import Aggregate, DomainError, DomainEvent, Invalid
from shared.contracts import CaseKind, HandlerKind


class InvalidField(Invalid):
    """A command names something the registry does not accept; the API reports it as that
    field's validation error."""

    def __init__(self, field: str, message: str, *, rule: str | None = None):
        super().__init__(f"{field}: {message}", rule=rule)
        self.field = field
        self.message = message


# --- the registry ---------------------------------------------------------------------------


class InstitutionKind(StrEnum):
    law_firm = "law_firm"
    grassroots_office = "grassroots_office"


class RecruitmentMethod(StrEnum):
    """R-PRV-1: how an institution came to serve legal aid."""

    public_call = "public_call"  # 公开招募
    criteria = "criteria"  # by criteria on capacity and record
    government_procurement = "government_procurement"  # 政府采购


class Recruitment(BaseModel):
    """R-PRV-1: the recruitment record: how, when, by which agency, and when the results were
    published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: RecruitmentMethod
    recruited_on: date
    recruiting_agency: str = Field(min_length=1, max_length=100)
    results_published_on: date | None = None


class InstitutionRecruited(DomainEvent):
    institution_id: str
    name: str
    kind: InstitutionKind
    agency_id: str
    district: str
    recruited_at: datetime
    recruitment: Recruitment | None = None


class CommitmentWithdrawn(DomainEvent):
    """The institution withdrew its quality commitment: from that day on it receives no case."""

    withdrawn_on: date
    reason: str
    withdrawn_at: datetime


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

    def recruit(self, *, name: str, kind: InstitutionKind, agency_id: str, district: str, at: datetime,
                recruitment: Recruitment | None = None) -> None:
        if self.exists:
            raise DomainError(f"institution {self.id} is already recruited")
        self.record(InstitutionRecruited(institution_id=self.id, name=name, kind=kind, agency_id=agency_id,
                                         district=district, recruited_at=at, recruitment=recruitment))

    def withdraw_commitment(self, *, withdrawn_on: date, reason: str, at: datetime) -> None:
        """R-PRV-3: without a letter in force, no case; letters end on the day before withdrawal."""
        if not self.commitments:
            raise InvalidField("withdrawn_on", "the institution has signed no commitment", rule="R-PRV-3")
        self.record(CommitmentWithdrawn(withdrawn_on=withdrawn_on, reason=reason, withdrawn_at=at))

    def sign_commitment(self, *, signed_on: date, valid_until: date, at: datetime) -> None:
        """R-PRV-3: the quality commitment letter without which no case is received."""
        if valid_until < signed_on:
            raise InvalidField("valid_until", "must not be before signed_on", rule="R-PRV-3")
        self.record(CommitmentSigned(signed_on=signed_on, valid_until=valid_until, signed_at=at))

    def when_InstitutionRecruited(self, e: InstitutionRecruited) -> None:
        self.recruitment = e

    def when_CommitmentSigned(self, e: CommitmentSigned) -> None:
        self.commitments.append(e)

    def when_CommitmentWithdrawn(self, e: CommitmentWithdrawn) -> None:
        pass


Institution.handles(InstitutionRecruited, CommitmentSigned, CommitmentWithdrawn)


class Qualification(StrEnum):
    minors = "minors"  # R-ASG-8: trained for cases of minors


class HandlerRegistered(DomainEvent):
    handler_id: str
    name: str
    kind: HandlerKind
    licence_number: str | None
    institution_id: str
    agency_id: str  # the pool the handler serves: their institution's agency
    years_of_practice: int
    registered_at: datetime
    # Empty: any kind of case. Qualifications name special-case duties (R-ASG-8), e.g. "minors".
    practice_areas: list[CaseKind] = []
    qualifications: list[Qualification] = []


class HandlerSuspended(DomainEvent):
    """The bureau's decision (sanctions' HandlerSuspended) as the registry records it (R-SAN-2)."""

    suspension_id: str
    reason: str
    until: date | None
    suspended_at: datetime


class HandlerReinstated(DomainEvent):
    suspension_id: str
    reinstated_at: datetime


class UnavailabilityRecorded(DomainEvent):
    """The handler cannot take cases on these days (leave, illness, a long trial elsewhere)."""

    unavailable_from: date
    unavailable_to: date
    recorded_at: datetime


class Handler(Aggregate):
    """A lawyer, grassroots legal worker or volunteer doing legal-aid work for an institution."""

    stream_prefix = "handler"

    def __init__(self, id: str):
        super().__init__(id)
        self.registration: HandlerRegistered | None = None
        self.suspensions: dict[str, HandlerSuspended] = {}

    def register(self, *, name: str, kind: HandlerKind, licence_number: str | None, institution: Institution,
                 years_of_practice: int, at: datetime, practice_areas: Sequence[CaseKind] = (),
                 qualifications: Sequence[Qualification] = ()) -> None:
        if self.exists:
            raise DomainError(f"handler {self.id} is already registered")
        if institution.recruitment is None:
            raise InvalidField("institution_id", "no institution with this institution_id")
        # Lawyers and grassroots legal workers practise under a licence; volunteers may not hold one.
        if kind != HandlerKind.volunteer and not licence_number:
            raise InvalidField("licence_number", f"required for a {kind.value}")
        self.record(HandlerRegistered(handler_id=self.id, name=name, kind=kind, licence_number=licence_number,
                                      institution_id=institution.id,
                                      agency_id=institution.recruitment.agency_id,
                                      years_of_practice=years_of_practice,
                                      registered_at=at, practice_areas=list(dict.fromkeys(practice_areas)),
                                      qualifications=list(dict.fromkeys(qualifications))))

    def suspend(self, *, suspension_id: str, reason: str, until: date | None, at: datetime) -> None:
        """R-SAN-2 / R-ASG-6: from the next assignment on, no case until reinstated (or `until`)."""
        if suspension_id in self.suspensions:
            return  # the same decision told twice
        self.record(HandlerSuspended(suspension_id=suspension_id, reason=reason, until=until,
                                     suspended_at=at))

    def reinstate(self, *, suspension_id: str, at: datetime) -> None:
        if suspension_id not in self.suspensions:
            return  # never suspended by this decision, or already reinstated
        self.record(HandlerReinstated(suspension_id=suspension_id, reinstated_at=at))

    def sign_commitment(self, *, signed_on: date, valid_until: date, at: datetime) -> None:
        """R-PRV-3 "an institution (or a volunteer)": a volunteer signs a letter of their own."""
        if self.registration is None or self.registration.kind != HandlerKind.volunteer:
            raise InvalidField("handler_id", "only a volunteer signs a commitment of their own; a lawyer's "
                                             "or legal worker's is their institution's", rule="R-PRV-3")
        if valid_until < signed_on:
            raise InvalidField("valid_until", "must not be before signed_on", rule="R-PRV-3")
        self.record(CommitmentSigned(signed_on=signed_on, valid_until=valid_until, signed_at=at))

    def record_unavailability(self, *, unavailable_from: date, unavailable_to: date, at: datetime) -> None:
        if unavailable_to < unavailable_from:
            raise InvalidField("unavailable_to", "must not be before unavailable_from")
        self.record(UnavailabilityRecorded(unavailable_from=unavailable_from, unavailable_to=unavailable_to,
                                           recorded_at=at))

    def when_HandlerRegistered(self, e: HandlerRegistered) -> None:
        self.registration = e

    def when_HandlerSuspended(self, e: HandlerSuspended) -> None:
        self.suspensions[e.suspension_id] = e

    def when_HandlerReinstated(self, e: HandlerReinstated) -> None:
        self.suspensions.pop(e.suspension_id, None)

    def when_UnavailabilityRecorded(self, e: UnavailabilityRecorded) -> None:
        pass

    def when_CommitmentSigned(self, e: CommitmentSigned) -> None:
        pass


Handler.handles(HandlerRegistered, HandlerSuspended, HandlerReinstated, UnavailabilityRecorded,
                CommitmentSigned)
