"""The opinions of police, procuratorates and courts on the handler's work in a case (R-EVL-5): a
further dimension of its quality, beside the aided person's satisfaction. The organ that notified
the case (intake's `source_system`) or heard it gives one opinion per case; who gives it is the
token. The stream is `opinions-<case_id>`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound


class OrganKind(StrEnum):
    court = "court"
    procuratorate = "procuratorate"
    police = "police"


class OrganRelation(StrEnum):
    """How the organ knows the handler's work: it notified the case (通知辩护/代理), or heard it."""

    notified = "notified"
    heard = "heard"


class Assessment(StrEnum):
    """The organ's view of the handler's work, on the scale of the aided person's satisfaction."""

    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"


@dataclass(frozen=True)
class OpinionCase:
    """What evaluation knows of the case: its agency and the organ that notified it, if any."""

    case_id: str
    case_number: str | None  # known once the case closed
    agency_id: str
    source_system: str | None


class OpinionGiven(DomainEvent):
    case_id: str
    case_number: str | None
    agency_id: str
    organ_id: str
    organ_kind: OrganKind
    relation: OrganRelation
    assessment: Assessment
    remarks: str
    given_by: str
    given_at: datetime


class OpinionAlreadyGiven(Conflict):
    rule = "R-EVL-5"


class CaseOpinions(Aggregate):
    """The organs' opinions of one case. Its id is the case's id."""

    stream_prefix = "opinions"

    def __init__(self, id: str):
        super().__init__(id)
        self.organs: set[str] = set()

    def give(self, *, case: OpinionCase, organ_id: str, organ_kind: OrganKind, relation: OrganRelation,
             assessment: Assessment, remarks: str, by: str, at: datetime) -> None:
        """An organ's opinion, once per organ and case. An organ claiming to have notified a case
        another organ notified (or none did) is answered as if the case did not exist."""
        if relation is OrganRelation.notified and case.source_system != organ_id:
            raise NotFound(f"no case {case.case_id} notified by {organ_id}")
        if organ_id in self.organs:
            raise OpinionAlreadyGiven(f"{organ_id} already gave its opinion on case {case.case_id}")
        self.record(OpinionGiven(
            case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id, organ_id=organ_id,
            organ_kind=organ_kind, relation=relation, assessment=assessment, remarks=remarks, given_by=by,
            given_at=at))

    def when_OpinionGiven(self, e: OpinionGiven) -> None:
        self.organs.add(e.organ_id)


CaseOpinions.handles(OpinionGiven)
