"""The engine's rules as pure functions: eligibility, rotation order, the decision on a case."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.assignment.domain import (
    AlreadyAssigned,
    AssignmentBlocked,
    Candidate,
    CaseAssignment,
    CaseAwaitingChoice,
    CaseFacts,
    HandlerAssigned,
    HandlerNotEligible,
    Ineligibility,
    InvalidField,
    Policy,
    Rotation,
    assess,
    rotation_order,
)
from shared.clock import local_month
from shared.contracts import CaseFlags, CaseKind, HandlerKind
from shared.contracts.assignment import AssignmentMethod

AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
IN_FORCE = ((date(2026, 1, 1), date(2027, 12, 31)),)


def candidate(handler_id: str, order: int, *, commitments=IN_FORCE, agency="a1", active=True) -> Candidate:
    return Candidate(handler_id=handler_id, name=f"律师{handler_id}", kind=HandlerKind.lawyer,
                     licence_number=f"L-{handler_id}", institution_id="i1", institution_name="某律师事务所",
                     agency_id=agency, active=active, commitments=commitments, registered_order=order)


def case(case_id: str = "c1", **flags) -> CaseFacts:
    return CaseFacts(case_id=case_id, case_number=f"FY-{case_id}", case_kind=CaseKind.criminal,
                     agency_id="a1", flags=CaseFlags(**flags))


def turn(rotation: Rotation, case_id: str, handler_id: str, *, at=AT, group_case=False) -> None:
    rotation.take_turn(case_id=case_id, handler_id=handler_id, method=AssignmentMethod.rotation,
                       group_case=group_case, at=at)


def test_month_is_the_calendar_month_in_beijing():
    assert local_month(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == "2026-11"
    assert local_month(datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == "2026-10"


def test_eligibility_names_every_reason_with_its_rule():
    rotation = Rotation("a1")
    policy = Policy(agency_id="a1", at=AT, monthly_cap=1)
    turn(rotation, "c0", "h1")
    assessment = assess(candidate("h1", 1, commitments=(), agency="a2", active=False), rotation, policy)
    assert not assessment.eligible
    assert assessment.reasons == [Ineligibility.inactive, Ineligibility.outside_pool,
                                  Ineligibility.no_commitment, Ineligibility.monthly_cap_reached]
    assert [r.rule for r in assessment.reasons][2:] == ["R-PRV-3", "R-ASG-4"]


def test_a_commitment_counts_only_on_the_days_it_is_in_force():
    policy = Policy(agency_id="a1", at=AT)
    expired = ((date(2025, 1, 1), date(2026, 11, 9)),)
    future = ((date(2026, 11, 11), date(2027, 11, 9)),)
    last_day = ((date(2025, 1, 1), date(2026, 11, 10)),)
    assert assess(candidate("h1", 1, commitments=expired), Rotation("a1"), policy).reasons == [
        Ineligibility.commitment_not_in_force]
    assert not assess(candidate("h1", 1, commitments=future), Rotation("a1"), policy).eligible
    assert assess(candidate("h1", 1, commitments=last_day), Rotation("a1"), policy).eligible


def test_group_cases_neither_count_toward_nor_are_barred_by_the_cap():
    rotation = Rotation("a1")
    turn(rotation, "c0", "h1", group_case=True)
    assert rotation.cases_in("h1", "2026-11") == 0
    turn(rotation, "c1", "h1")
    capped = Policy(agency_id="a1", at=AT, monthly_cap=1)
    assert not assess(candidate("h1", 1), rotation, capped).eligible
    assert assess(candidate("h1", 1), rotation,
                  Policy(agency_id="a1", at=AT, monthly_cap=1, count_cap=False)).eligible


def test_the_cap_starts_again_with_each_month():
    rotation = Rotation("a1")
    turn(rotation, "c0", "h1", at=AT - timedelta(days=20))
    assert assess(candidate("h1", 1), rotation, Policy(agency_id="a1", at=AT, monthly_cap=1)).eligible


def test_rotation_puts_the_never_assigned_first_then_who_waited_longest():
    pool = [candidate("h1", 1), candidate("h2", 2), candidate("h3", 3)]
    rotation = Rotation("a1")
    assert [c.handler_id for c in rotation_order(pool, rotation)] == ["h1", "h2", "h3"]
    turn(rotation, "c1", "h2")
    turn(rotation, "c2", "h1")
    assert [c.handler_id for c in rotation_order(pool, rotation)] == ["h3", "h2", "h1"]


def test_rotation_shares_cases_fairly_over_many_cases():
    pool = [candidate(f"h{i}", i) for i in range(1, 5)]
    rotation = Rotation("a1")
    for n in range(11):
        assignment = CaseAssignment(f"c{n}")
        assignment.decide(case=case(f"c{n}"), pool=pool, named=None, rotation=rotation, at=AT, monthly_cap=5)
        decision = assignment.decisions[-1]
        assert isinstance(decision, HandlerAssigned)
        turn(rotation, f"c{n}", decision.handler.handler_id)
    counts = [rotation.cases_in(c.handler_id, "2026-11") for c in pool]
    assert sorted(counts) == [2, 3, 3, 3] and max(counts) - min(counts) <= 1


def test_named_handler_is_assigned_when_eligible_and_otherwise_rotation_says_why():
    pool = [candidate("h1", 1), candidate("h2", 2), candidate("h3", 3, commitments=())]
    named = CaseAssignment("c1")
    named.decide(case=case(named_handler_id="h2"), pool=pool, named=pool[1], rotation=Rotation("a1"), at=AT)
    assert named.handler.handler_id == "h2" and named.decisions[-1].method == AssignmentMethod.named
    fallback = CaseAssignment("c2")
    fallback.decide(case=case("c2", named_handler_id="h3"), pool=pool, named=pool[2], rotation=Rotation("a1"),
                    at=AT)
    decision = fallback.decisions[-1]
    assert decision.method == AssignmentMethod.rotation and decision.handler.handler_id == "h1"
    assert "h3" in decision.reason and "no_commitment" in decision.reason


@pytest.mark.parametrize("flag", ["major_or_sensitive", "group_case", "assigned_by_superior"])
def test_flagged_cases_await_the_agencys_choice_with_a_proposal(flag):
    assignment = CaseAssignment("c1")
    assignment.decide(case=case(**{flag: True}), pool=[candidate("h1", 1)], named=None,
                      rotation=Rotation("a1"), at=AT)
    decision = assignment.decisions[-1]
    assert isinstance(decision, CaseAwaitingChoice)
    assert decision.grounds == [flag] and decision.proposal == "h1" and assignment.handler is None


def test_choice_needs_a_reason_and_an_eligible_handler_and_happens_once():
    pool = [candidate("h1", 1), candidate("h2", 2, commitments=())]
    rotation = Rotation("a1")
    assignment = CaseAssignment("c1")
    assignment.decide(case=case(major_or_sensitive=True), pool=pool, named=None, rotation=rotation, at=AT)
    with pytest.raises(InvalidField) as no_reason:
        assignment.choose(handler_id="h1", candidate=pool[0], reason="  ", rotation=rotation, at=AT)
    assert no_reason.value.field == "reason"
    with pytest.raises(HandlerNotEligible) as refused:
        assignment.choose(handler_id="h2", candidate=pool[1], reason="熟悉本类案件", rotation=rotation, at=AT)
    assert refused.value.rule == "R-PRV-3"
    assignment.choose(handler_id="h1", candidate=pool[0], reason="熟悉本类案件", rotation=rotation, at=AT)
    assert assignment.decisions[-1].method == AssignmentMethod.chosen
    assignment.choose(handler_id="h1", candidate=pool[0], reason="熟悉本类案件", rotation=rotation, at=AT)
    assert len(assignment.pending) == 2  # the same choice again records nothing
    with pytest.raises(AlreadyAssigned):
        assignment.choose(handler_id="h2", candidate=pool[1], reason="熟悉本类案件", rotation=rotation, at=AT)


def test_nobody_eligible_blocks_the_case_and_a_decided_case_is_never_decided_again():
    assignment = CaseAssignment("c1")
    pool = [candidate("h1", 1, commitments=())]
    assignment.decide(case=case(), pool=pool, named=None, rotation=Rotation("a1"), at=AT)
    assert isinstance(assignment.decisions[-1], AssignmentBlocked)
    assert assignment.decisions[-1].candidates[0].reasons == [Ineligibility.no_commitment]
    assignment.decide(case=case(), pool=[candidate("h2", 2)], named=None, rotation=Rotation("a1"), at=AT)
    assert len(assignment.decisions) == 1


def test_a_case_takes_one_turn_however_often_it_is_told():
    rotation = Rotation("a1")
    turn(rotation, "c1", "h1")
    turn(rotation, "c1", "h1")
    assert rotation.turns == 1 and rotation.cases_in("h1", "2026-11") == 1


def test_special_cases_need_experience_or_the_minors_qualification_and_say_so():
    from dataclasses import replace

    from services.assignment.domain import Qualification

    junior = replace(candidate("h1", 1), years_of_practice=2)
    senior = replace(candidate("h2", 2), years_of_practice=3)
    grave = Policy(agency_id="a1", at=AT, needs_senior=True)
    assert assess(junior, Rotation("a1"), grave).reasons == [Ineligibility.too_little_experience]
    assert assess(senior, Rotation("a1"), grave).eligible
    assert assess(senior, Rotation("a1"), replace(grave, senior_years=5)).reasons[0].rule == "R-ASG-8"
    minors = Policy(agency_id="a1", at=AT, needs_minors_qualification=True)
    assert assess(senior, Rotation("a1"), minors).reasons == [Ineligibility.not_qualified_for_minors]
    trained = replace(senior, qualifications=frozenset({Qualification.minors}))
    assert assess(trained, Rotation("a1"), minors).eligible


def test_suspension_until_a_day_ends_after_it_and_conflicts_are_matched_on_party_hashes():
    from dataclasses import replace

    suspended = replace(candidate("h1", 1), suspensions=(date(2026, 11, 10),))
    assert (assess(suspended, Rotation("a1"), Policy(agency_id="a1", at=AT)).reasons
            == [Ineligibility.suspended])
    assert assess(suspended, Rotation("a1"), Policy(agency_id="a1", at=AT + timedelta(days=1))).eligible
    acted_for = replace(candidate("h2", 2), represented_parties=frozenset({"hash-of-li"}))
    against = Policy(agency_id="a1", at=AT, adverse_parties=frozenset({"hash-of-li"}))
    assert assess(acted_for, Rotation("a1"), against).reasons == [Ineligibility.conflict_of_interest]


def test_reassignment_releases_the_handler_whose_case_still_counts_and_picks_another():
    from services.assignment.domain import HandlerReleased

    pool = [candidate("h1", 1), candidate("h2", 2)]
    rotation = Rotation("a1")
    assignment = CaseAssignment("c1")
    assignment.decide(case=case(), pool=pool, named=None, rotation=rotation, at=AT)
    turn(rotation, "c1", "h1")
    assignment.reassign(current_handler_id="h1", reason="breakdown_of_trust", pool=pool, named=None,
                        rotation=rotation, at=AT)
    released, reassigned = assignment.decisions[-2:]
    assert isinstance(released, HandlerReleased) and released.handler.handler_id == "h1"
    assert isinstance(reassigned, HandlerAssigned) and reassigned.handler.handler_id == "h2"
    turn(rotation, "c1", "h2")
    assert rotation.cases_in("h1", "2026-11") == 1 and rotation.cases_in("h2", "2026-11") == 1
    assignment.reassign(current_handler_id="h1", reason="breakdown_of_trust", pool=pool, named=None,
                        rotation=rotation, at=AT)  # told twice: h1 no longer holds it
    assert len(assignment.decisions) == 3
    assignment.terminate(reason="aided_person_withdrew", at=AT)
    assert assignment.status == "released" and assignment.handler is None


# --- conflicts both ways and the institution's arrangement (R-PRV-4) ------------------------


def test_conflicts_are_caught_both_ways_and_the_reason_names_which():
    """Worked example. Handler h1 (firm i1) once acted for 王五 (hash W) against 赵六 (hash Z).
    (a) A case against 王五 (W adverse): h1 acted for an adverse party: conflict_of_interest.
    (b) A case for 赵六 (Z aided): h1 acted against the aided person before:
        conflict_acted_against_aided_person. A case with neither W adverse nor Z aided is free."""
    from dataclasses import replace

    h1 = replace(candidate("h1", 1), represented_parties=frozenset({"W"}), opposed_parties=frozenset({"Z"}))
    against_wang = Policy(agency_id="a1", at=AT, adverse_parties=frozenset({"W"}))
    for_zhao = Policy(agency_id="a1", at=AT, aided_person="Z")
    both = Policy(agency_id="a1", at=AT, adverse_parties=frozenset({"W"}), aided_person="Z")
    unrelated = Policy(agency_id="a1", at=AT, adverse_parties=frozenset({"Z"}), aided_person="W")
    assert assess(h1, Rotation("a1"), against_wang).reasons == [Ineligibility.conflict_of_interest]
    assert assess(h1, Rotation("a1"), for_zhao).reasons == [Ineligibility.conflict_acted_against_aided_person]
    assert assess(h1, Rotation("a1"), both).reasons == [Ineligibility.conflict_of_interest,
                                                        Ineligibility.conflict_acted_against_aided_person]
    # 赵六 against 王五 is the same side as before for h1: acting for W again, against Z again.
    assert assess(h1, Rotation("a1"), unrelated).eligible


def test_the_engine_skips_a_handler_who_acted_against_the_aided_person():
    from dataclasses import replace

    pool = [replace(candidate("h1", 1), opposed_parties=frozenset({"Z"})), candidate("h2", 2)]
    assignment = CaseAssignment("c1")
    facts = case().model_copy(update={"aided_person_hash": "Z"})
    assignment.decide(case=facts, pool=pool, named=None, rotation=Rotation("a1"), at=AT)
    decision = assignment.decisions[-1]
    assert isinstance(decision, HandlerAssigned) and decision.handler.handler_id == "h2"
    assert decision.candidates[0].reasons == [Ineligibility.conflict_acted_against_aided_person]


def institution_facts(institution_id: str = "i1", *, agency: str = "a1", commitments=IN_FORCE):
    from services.assignment.domain import InstitutionFacts

    return InstitutionFacts(institution_id=institution_id, name="某律师事务所", agency_id=agency,
                            commitments=commitments)


def given_to_i1(pool, *, facts: CaseFacts | None = None) -> CaseAssignment:
    assignment = CaseAssignment("c1")
    assignment.decide(case=facts or case(major_or_sensitive=True), pool=pool, named=None,
                      rotation=Rotation("a1"), at=AT)
    assignment.give_to_institution(institution=institution_facts(), institution_id="i1",
                                   reason="重大案件交由律所", due_at=AT + timedelta(days=1), at=AT)
    return assignment


def test_only_a_case_awaiting_the_agencys_choice_goes_to_an_institution_of_its_pool_in_force():
    from services.assignment.domain import (
        CaseGivenToInstitution,
        InstitutionNotEligible,
        NotAwaitingChoice,
    )

    plain = CaseAssignment("c0")
    plain.decide(case=case("c0"), pool=[candidate("h1", 1)], named=None, rotation=Rotation("a1"), at=AT)
    with pytest.raises(AlreadyAssigned):
        plain.give_to_institution(institution=institution_facts(), institution_id="i1", reason="交由律所安排",
                                  due_at=AT, at=AT)
    blocked = CaseAssignment("c2")
    blocked.decide(case=case("c2"), pool=[], named=None, rotation=Rotation("a1"), at=AT)
    with pytest.raises(NotAwaitingChoice):
        blocked.give_to_institution(institution=institution_facts(), institution_id="i1",
                                    reason="交由律所安排", due_at=AT, at=AT)
    major = CaseAssignment("c1")
    major.decide(case=case(major_or_sensitive=True), pool=[], named=None, rotation=Rotation("a1"), at=AT)
    with pytest.raises(InvalidField) as unknown:
        major.give_to_institution(institution=None, institution_id="i9", reason="交由律所安排", due_at=AT,
                                  at=AT)
    assert unknown.value.field == "institution_id"
    with pytest.raises(InstitutionNotEligible) as elsewhere:
        major.give_to_institution(institution=institution_facts(agency="a2"), institution_id="i1",
                                  reason="交由律所安排", due_at=AT, at=AT)
    assert elsewhere.value.rule == "R-ASG-3"
    with pytest.raises(InstitutionNotEligible) as lapsed:
        major.give_to_institution(institution=institution_facts(commitments=((date(2025, 1, 1),
                                                                              date(2025, 12, 31)),)),
                                  institution_id="i1", reason="交由律所安排", due_at=AT, at=AT)
    assert lapsed.value.rule == "R-PRV-3"
    with pytest.raises(InvalidField) as terse:
        major.give_to_institution(institution=institution_facts(), institution_id="i1", reason="好",
                                  due_at=AT, at=AT)
    assert terse.value.field == "reason"
    major.give_to_institution(institution=institution_facts(), institution_id="i1", reason="重大案件交由律所",
                              due_at=AT + timedelta(days=1), at=AT)
    major.give_to_institution(institution=institution_facts(), institution_id="i1", reason="重大案件交由律所",
                              due_at=AT + timedelta(days=1), at=AT)  # sent twice: one decision
    assert major.status == "awaiting_institution" and major.institution_id == "i1"
    assert [type(d) for d in major.decisions] == [CaseAwaitingChoice, CaseGivenToInstitution]


def test_the_institution_arranges_only_its_own_eligible_handlers_and_the_cap_holds():
    """Worked example with a cap of 1: h1 of i1 already has a case this month; i1 is given a
    major case: h1 is refused (R-ASG-4), h3 of another firm is not i1's to arrange, h2 is
    arranged; every handler of i1 considered is on the record with why."""
    from dataclasses import replace

    from services.assignment.domain import NotAwaitingInstitution

    h1, h2 = candidate("h1", 1), candidate("h2", 2)
    h3 = replace(candidate("h3", 3), institution_id="i2")
    rotation = Rotation("a1")
    turn(rotation, "c0", "h1")
    assignment = given_to_i1([h1, h2, h3])
    arrange = dict(institution_id="i1", staff=[h1, h2], reason="本所安排熟悉的律师", rotation=rotation, at=AT,
                   monthly_cap=1)
    with pytest.raises(NotAwaitingInstitution):
        assignment.arrange(handler_id="h2", candidate=h2, **(arrange | {"institution_id": "i2"}))
    with pytest.raises(HandlerNotEligible) as capped:
        assignment.arrange(handler_id="h1", candidate=h1, **arrange)
    assert capped.value.rule == "R-ASG-4" and "monthly_cap_reached" in str(capped.value)
    with pytest.raises(InvalidField) as foreign:
        assignment.arrange(handler_id="h3", candidate=h3, **arrange)
    assert foreign.value.field == "handler_id"
    with pytest.raises(InvalidField) as unknown:
        assignment.arrange(handler_id="h9", candidate=None, **arrange)
    assert unknown.value.field == "handler_id"
    assignment.arrange(handler_id="h2", candidate=h2, **arrange)
    decision = assignment.decisions[-1]
    assert isinstance(decision, HandlerAssigned) and decision.method == AssignmentMethod.arranged
    assert decision.handler.handler_id == "h2" and decision.reason == "本所安排熟悉的律师"
    assert {c.handler_id: c.reasons for c in decision.candidates} == {
        "h1": [Ineligibility.monthly_cap_reached], "h2": []}
    assert assignment.status == "assigned" and assignment.institution_id is None
    assignment.arrange(handler_id="h2", candidate=h2, **arrange)  # sent twice: one decision
    with pytest.raises(AlreadyAssigned):
        assignment.arrange(handler_id="h1", candidate=h1, **arrange)
    assert len(assignment.decisions) == 3


def test_an_arrangement_refuses_a_conflict_either_way_naming_it():
    from dataclasses import replace

    for_wang = replace(candidate("h1", 1), represented_parties=frozenset({"W"}))
    against_zhao = replace(candidate("h2", 2), opposed_parties=frozenset({"Z"}))
    facts = case(major_or_sensitive=True).model_copy(update={"adverse_party_hashes": ["W"],
                                                             "aided_person_hash": "Z"})
    assignment = given_to_i1([for_wang, against_zhao], facts=facts)
    for handler, reason in ((for_wang, "conflict_of_interest"),
                            (against_zhao, "conflict_acted_against_aided_person")):
        with pytest.raises(HandlerNotEligible) as refused:
            assignment.arrange(institution_id="i1", handler_id=handler.handler_id, candidate=handler,
                               staff=[for_wang, against_zhao], reason="本所安排熟悉的律师",
                               rotation=Rotation("a1"), at=AT)
        assert str(refused.value).endswith(reason) and refused.value.rule == "R-PRV-4"
    assert assignment.status == "awaiting_institution"


def test_the_agency_takes_back_an_unarranged_case_and_the_rotation_decides():
    from services.assignment.domain import CaseTakenBackFromInstitution, NotAwaitingInstitution

    pool = [candidate("h1", 1), candidate("h2", 2)]
    rotation = Rotation("a1")
    turn(rotation, "c0", "h1")
    assignment = given_to_i1(pool)
    assignment.take_back(reason="律所逾期未安排承办人", pool=pool, rotation=rotation,
                         at=AT + timedelta(days=2))
    taken_back, decided = assignment.decisions[-2:]
    assert isinstance(taken_back, CaseTakenBackFromInstitution) and taken_back.overdue
    assert taken_back.institution_id == "i1"
    assert isinstance(decided, HandlerAssigned) and decided.method == AssignmentMethod.rotation
    assert decided.handler.handler_id == "h2" and "律所逾期未安排承办人" in (decided.reason or "")
    with pytest.raises(NotAwaitingInstitution):
        assignment.take_back(reason="律所逾期未安排承办人", pool=pool, rotation=rotation, at=AT)
    nobody = given_to_i1([])
    nobody.take_back(reason="律所无人可以承办", pool=[], rotation=Rotation("a1"), at=AT)
    assert isinstance(nobody.decisions[-1], AssignmentBlocked) and nobody.status == "blocked"
    assert not nobody.decisions[-2].overdue


def test_the_arrangement_is_due_the_configured_hours_after_the_case_was_given():
    from services.assignment.domain import arrangement_due

    friday_evening = datetime(2026, 11, 13, 15, 30, tzinfo=UTC)  # Friday 23:30 in Beijing
    assert arrangement_due(friday_evening, 24) == datetime(2026, 11, 14, 15, 30, tzinfo=UTC)
    assert arrangement_due(friday_evening, 0) == friday_evening
    assert arrangement_due(friday_evening, 1.5) == datetime(2026, 11, 13, 17, 0, tzinfo=UTC)