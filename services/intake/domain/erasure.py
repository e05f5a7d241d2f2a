"""An aided person's erasure as a fact of its own (pure): the stream `aided-person-<person_ref>`
records each crypto-shredding, with who ordered it in its metadata, so auditors read it with
the case streams (GET /api/v1/audit/streams/aided-person-<ref>/events). The cases' own
histories are not touched: their tokens simply stop opening (docs/privacy.md)."""

from __future__ import annotations

from datetime import datetime

from shared.aggregate import Aggregate, DomainEvent


class AidedPersonErased(DomainEvent):
    """The person's data keys were erased: every value sealed for them is unreadable from now on."""

    person_ref: str
    erased_at: datetime
    reason: str
    key_versions: int


class PersonRecord(Aggregate):
    """What intake records about a person beyond their cases: erasures."""

    stream_prefix = "aided-person"

    def __init__(self, id: str):
        super().__init__(id)
        self.erasures: list[AidedPersonErased] = []

    def record_erasure(self, *, erased_at: datetime, reason: str, key_versions: int) -> bool:
        """False when this erasure is recorded already (the same order sent again)."""
        if any(e.erased_at == erased_at for e in self.erasures):
            return False
        self.record(AidedPersonErased(person_ref=self.id, erased_at=erased_at, reason=reason,
                                      key_versions=key_versions))
        return True

    def when_AidedPersonErased(self, e: AidedPersonErased) -> None:
        self.erasures.append(e)


PersonRecord.handles(AidedPersonErased)
