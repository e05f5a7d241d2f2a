"""The investigation's lifecycle, complaints and suspensions' periods (pure: the domain alone)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.sanctions.domain import (
    AlreadyAnswered,
    AlreadyInvestigated,
    AlreadyReinstated,
    Complaint,
    InvalidComplaint,
    InvalidDecision,
    InvalidSuspension,
    Investigation,
    InvestigationStatus,
    Measure,
    NotInThisState,
    PeriodNotOver,
    Policy,
    Suspension,
    SuspensionScope,
    last_day_after,
)
from services.sanctions.tests.test_investigation import AT, LAWYER, opened
from shared.contracts import HandlerRef

VOLUNTEER = HandlerRef(handler_id="volunteer-zhao", name="赵志愿", kind="volunteer",
                       institution_id="uni-clinic", institution_name="某大学法律援助志愿团")


def found(handler: HandlerRef = LAWYER) -> Investigation:
    investigation = opened(handler)
    investigation.record_findings(findings="未会见犯罪嫌疑人，属实", by="investigator-wang", at=AT)
    return investigation


def test_the_responsible_bureau_and_the_due_day_come_from_the_policy():
    policy = Policy(bureaus={"chaoyang-centre": "chaoyang-bureau"}, investigation_days=20)
    assert policy.bureau_of("chaoyang-centre") == "chaoyang-bureau"
    assert policy.bureau_of("haidian-centre") == "city"
    # 2026-11-03 02:00 UTC is 10:00 in Beijing, the same day there.
    assert policy.investigation_due(AT) == date(2026, 11, 23)


def test_an_investigation_is_assigned_found_decided_and_closed_each_step_an_event():
    investigation = opened()
    investigation.assign(assignee_id="investigator-wang", by="head", at=AT)
    investigation.assign(assignee_id="investigator-wang", by="head", at=AT)  # told twice: once
    investigation.add_note(note_id="n1", text="约谈承办律师", by="investigator-wang", at=AT)
    investigation.add_evidence(evidence_id="e1", reference="会见登记表", description="复印件",
                               by="investigator-wang", at=AT)
    with pytest.raises(NotInThisState):
        investigation.decide(violation=False, measures=[], reasoning="尚无调查结论", by="w", at=AT)
    with pytest.raises(NotInThisState):
        investigation.close(by="w", at=AT, organ_id=None)
    investigation.record_findings(findings="未会见犯罪嫌疑人，属实", by="investigator-wang", at=AT)
    investigation.decide(violation=True,
                         measures=[Measure.order_to_correct, Measure.suspension_from_assignment],
                         reasoning="未履行会见职责", by="investigator-wang", at=AT,
                         suspension_scope=SuspensionScope.agency, suspension_months=3)
    assert investigation.status == InvestigationStatus.decided
    planned = investigation.planned_suspension
    assert planned is not None and (planned.scope, planned.months) == (SuspensionScope.agency, 3)
    with pytest.raises(NotInThisState):
        investigation.record_findings(findings="改口", by="w", at=AT)
    investigation.close(by="investigator-wang", at=AT, organ_id="chaoyang-procuratorate")
    assert investigation.status == InvestigationStatus.closed
    assert investigation.organ_informed is not None
    assert investigation.organ_informed.organ_id == "chaoyang-procuratorate"
    with pytest.raises(NotInThisState):
        investigation.add_note(note_id="n2", text="too late", by="w", at=AT)
    names = [type(e).__name__ for e in investigation.pending]
    assert names == ["InvestigationOpened", "InvestigationAssigned", "NoteAdded", "EvidenceAdded",
                     "FindingsRecorded", "InvestigationDecided", "InvestigationClosed", "OrganInformed"]
    stored = [(e.event_type(), e.model_dump(mode="json"), AT) for e in investigation.pending]
    again = Investigation.fold(investigation.id, stored)
    assert (again.status, again.decision, again.assignee_id) == (investigation.status, investigation.decision,
                                                                 "investigator-wang")


def test_a_case_no_organ_notified_closes_without_informing_anyone():
    investigation = found()
    investigation.decide(violation=False, measures=[], reasoning="不构成违规", by="w", at=AT)
    assert investigation.planned_suspension is None
    investigation.close(by="w", at=AT, organ_id=None)
    assert investigation.organ_informed is None


@pytest.mark.parametrize("decision, field", [
    ({"violation": False, "measures": [Measure.warning]}, "measures"),
    ({"violation": True, "measures": []}, "measures"),
    ({"violation": True, "measures": [Measure.suspension_from_assignment]}, "suspension_months"),
    ({"violation": True, "measures": [Measure.warning], "suspension_scope": SuspensionScope.city,
      "suspension_months": 3}, "suspension_months"),
    ({"violation": True, "measures": [Measure.practice_suspension]}, "practice_suspension_months"),
    ({"violation": True, "measures": [Measure.practice_suspension], "practice_suspension_months": 4},
     "practice_suspension_months"),
    ({"violation": True, "measures": [Measure.practice_suspension], "practice_suspension_months": 0},
     "practice_suspension_months"),
])
def test_a_decision_that_does_not_add_up_is_refused_naming_the_field(decision, field):
    investigation = found()
    with pytest.raises(InvalidDecision) as refused:
        investigation.decide(reasoning="理由充分", by="w", at=AT, **decision)
    assert refused.value.field == field and refused.value.rule == "R-SAN-3"
    assert investigation.decision is None


def test_only_a_lawyer_is_suspended_from_practice_for_one_to_three_months_and_then_city_wide():
    volunteer = found(VOLUNTEER)
    with pytest.raises(InvalidDecision) as refused:
        volunteer.decide(violation=True, measures=[Measure.practice_suspension], practice_suspension_months=2,
                         reasoning="怠于履行职责", by="w", at=AT)
    assert refused.value.field == "measures"
    lawyer = found()
    lawyer.decide(violation=True, measures=[Measure.warning, Measure.practice_suspension],
                  practice_suspension_months=3, reasoning="怠于履行职责", by="w", at=AT)
    planned = lawyer.planned_suspension
    assert planned is not None and (planned.scope, planned.months) == (SuspensionScope.city, 3)
    with pytest.raises(NotInThisState):
        lawyer.decide(violation=False, measures=[], reasoning="again", by="w", at=AT)


# --- complaints -----------------------------------------------------------------------------


def lodged() -> Complaint:
    complaint = Complaint("complaint-1")
    complaint.lodge(case_id="case-1", case_number="FY-2026-000001", agency_id="chaoyang-centre",
                    bureau_id="chaoyang-bureau", handler_id="lawyer-li", text="律师开庭前未与我见面",
                    received_on=date(2026, 11, 2), answer_days=30, by="clerk", at=AT)
    return complaint


def test_a_complaint_is_answered_once_and_opens_one_investigation():
    complaint = lodged()
    assert complaint.lodging is not None and complaint.lodging.answer_due_on == date(2026, 12, 2)
    complaint.answer_it(answer="已责令改正", by="investigator-wang", at=AT)
    with pytest.raises(AlreadyAnswered):
        complaint.answer_it(answer="again", by="investigator-wang", at=AT)
    complaint.refer_to_investigation(investigation_id="inv-1", by="investigator-wang", at=AT)
    with pytest.raises(AlreadyInvestigated):
        complaint.refer_to_investigation(investigation_id="inv-2", by="investigator-wang", at=AT)


def test_a_complaint_cannot_be_received_in_the_future():
    with pytest.raises(InvalidComplaint) as refused:
        Complaint("c").lodge(case_id="case-1", case_number="N", agency_id="a", bureau_id="city",
                             handler_id=None, text="投诉内容", received_on=date(2026, 11, 4), answer_days=30,
                             by="clerk", at=AT)
    assert refused.value.field == "received_on"


# --- suspensions: scope and period ----------------------------------------------------------


def test_a_period_of_months_ends_the_day_before_the_same_day_months_later():
    assert last_day_after(date(2026, 11, 5), 3) == date(2027, 2, 4)
    assert last_day_after(date(2026, 11, 30), 3) == date(2027, 2, 27)  # no 30 February: the 28th, less one
    assert last_day_after(date(2026, 12, 1), 1) == date(2026, 12, 31)


def suspended(**period) -> Suspension:
    suspension = Suspension("s-1")
    suspension.decide(handler_id="lawyer-li", agency_id="chaoyang-centre", investigation_id="inv-1",
                      reason="调查属实", at=AT, scope=SuspensionScope.agency, **{"until": None, **period})
    return suspension


def test_a_suspension_ends_by_itself_only_once_its_last_day_is_over():
    suspension = suspended(months=3)
    decision = suspension.decision
    assert decision is not None
    assert (decision.starts_on, decision.until) == (date(2026, 11, 3), date(2027, 2, 2))
    last_day_in_beijing = datetime(2027, 2, 2, 15, 59, tzinfo=UTC)  # 23:59 on 2 February in Beijing
    assert not suspension.due_to_end(last_day_in_beijing)
    with pytest.raises(PeriodNotOver):
        suspension.end_period(at=last_day_in_beijing)
    day_after = last_day_in_beijing + timedelta(minutes=1)
    assert suspension.due_to_end(day_after)
    suspension.end_period(at=day_after)
    reinstatement = suspension.reinstatement
    assert reinstatement is not None and reinstatement.automatic and reinstatement.reinstated_at == day_after
    with pytest.raises(AlreadyReinstated):
        suspension.end_period(at=day_after)
    assert not suspension.due_to_end(day_after + timedelta(days=1))


@pytest.mark.parametrize("decision, field", [
    ({"months": 3, "until": date(2027, 1, 1)}, "months"),
    ({"months": 0}, "months"),
    ({"until": None}, "months"),
    ({"until": date(2026, 11, 2)}, "until"),
    ({"months": 3, "scope": SuspensionScope.agency, "agency_id": None}, "agency_id"),
    ({"months": 3, "investigation_id": None}, "case_id"),
])
def test_a_suspension_needs_a_link_a_period_and_for_one_agency_its_id(decision, field):
    arguments = {"handler_id": "lawyer-li", "agency_id": "chaoyang-centre", "investigation_id": "inv-1",
                 "reason": "调查属实", "at": AT, "until": None, "scope": SuspensionScope.city, **decision}
    with pytest.raises(InvalidSuspension) as refused:
        Suspension("s").decide(**arguments)
    assert refused.value.field == field
