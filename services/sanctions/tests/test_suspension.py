"""The decision to stop assigning cases to a handler, and the reinstatement (pure)."""

from datetime import UTC, date, datetime

import pytest

from services.sanctions.domain import AlreadyReinstated, Suspension, SuspensionDecided
from shared.aggregate import DomainError

AT = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def decided() -> Suspension:
    suspension = Suspension("suspension-1")
    suspension.decide(handler_id="lawyer-li", agency_id="chaoyang-centre", investigation_id=None,
                      reason="承办案件同行评估不合格", until=date(2027, 3, 31), at=AT,
                      case_id="case-1")
    return suspension


def test_a_decision_names_the_handler_and_lasts_until_reinstated():
    suspension = decided()
    assert [type(e) for e in suspension.pending] == [SuspensionDecided]
    assert suspension.decision is not None and suspension.decision.handler_id == "lawyer-li"
    assert suspension.reinstatement is None
    with pytest.raises(DomainError):
        suspension.decide(handler_id="lawyer-li", agency_id=None, investigation_id=None,
                          reason="again, twice", until=None, at=AT)


def test_a_handler_is_reinstated_once():
    suspension = decided()
    suspension.reinstate(reason="整改完成，经复查合格", at=AT)
    assert suspension.reinstatement is not None and suspension.reinstatement.reinstated_at == AT
    with pytest.raises(AlreadyReinstated) as error:
        suspension.reinstate(reason="整改完成，经复查合格", at=AT)
    assert error.value.rule == "R-SAN-2"


def test_a_suspension_read_back_from_its_events_is_the_one_decided():
    suspension = decided()
    suspension.reinstate(reason="整改完成，经复查合格", at=AT)
    stored = [(e.event_type(), e.model_dump(mode="json"), AT) for e in suspension.pending]
    again = Suspension.fold("suspension-1", stored)
    assert (again.version, again.decision, again.reinstatement) == (2, suspension.decision,
                                                                   suspension.reinstatement)
