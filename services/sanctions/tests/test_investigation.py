"""The investigation of a failed case and the bar association's notice (pure)."""

from datetime import UTC, datetime

import pytest

from services.sanctions.domain import (
    Investigation,
    InvestigationStatus,
    NotALawyer,
    NoticeAlreadyIssued,
    investigation_id_for,
)
from shared.contracts import CaseKind, HandlerRef

AT = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
LAWYER = HandlerRef(handler_id="lawyer-li", name="李明", kind="lawyer", licence_number="11101200910000001",
                    institution_id="firm-a", institution_name="北京甲律师事务所")


def opened(handler: HandlerRef = LAWYER) -> Investigation:
    investigation = Investigation(investigation_id_for("evaluation-1"))
    investigation.open(evaluation_id="evaluation-1", case_id="case-1", case_number="FY-2026-000001",
                       case_kind=CaseKind.criminal, agency_id="chaoyang-centre", handler=handler,
                       findings="未会见受援人张三", at=AT)
    return investigation


def test_one_failed_evaluation_maps_to_one_investigation():
    assert investigation_id_for("evaluation-1") == investigation_id_for("evaluation-1")
    assert investigation_id_for("evaluation-1") != investigation_id_for("evaluation-2")


def test_a_lawyers_failed_case_is_notified_once_naming_lawyer_and_firm_but_not_the_findings():
    investigation = opened()
    assert investigation.status == InvestigationStatus.open and investigation.handler_is_lawyer
    investigation.notify_bar_association(notice_id="n-1", at=AT)
    reason = investigation.bar_notice.reason
    assert "李明" in reason and "北京甲律师事务所" in reason and "FY-2026-000001" in reason
    assert "张三" not in reason
    with pytest.raises(NoticeAlreadyIssued):
        investigation.notify_bar_association(notice_id="n-2", at=AT)


@pytest.mark.parametrize("kind", ["volunteer", "grassroots_legal_worker"])
def test_only_lawyers_are_notified_to_the_bar_association(kind):
    investigation = opened(LAWYER.model_copy(update={"kind": kind}))
    assert not investigation.handler_is_lawyer
    with pytest.raises(NotALawyer) as error:
        investigation.notify_bar_association(notice_id="n-1", at=AT)
    assert error.value.rule == "R-SAN-4"
