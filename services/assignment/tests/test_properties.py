"""The engine's invariants over random pools and random streams of cases (pure domain, fast):
the monthly cap, suspensions, commitments, qualifications and conflicts (both ways) are never
overridden, whether the rotation decides or an institution given the case arranges its handler
(R-PRV-4); the named lawyer wins when eligible, and the rotation shares cases fairly."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.assignment.domain import (
    DEFAULT_SENIOR_YEARS,
    Candidate,
    CaseAssignment,
    CaseFacts,
    HandlerAssigned,
    HandlerNotEligible,
    InstitutionFacts,
    Policy,
    Qualification,
    Rotation,
    assess,
)
from shared.clock import local_date, local_month
from shared.contracts import CaseFlags, CaseKind, HandlerKind
from shared.contracts.assignment import AssignmentMethod

CAP = 5
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
PARTIES = [f"p{i}" for i in range(6)]


@st.composite
def candidates(draw, order: int) -> Candidate:
    commitment = draw(st.sampled_from([
        ((date(2025, 1, 1), date(2027, 12, 31)),),  # in force all along
        (),  # never signed
        ((date(2025, 1, 1), date(2026, 2, 15)),),  # expires mid-stream
    ]))
    suspension = draw(st.sampled_from([(), (None,), (date(2026, 1, 20),)]))
    return Candidate(
        handler_id=f"h{order}", name=f"律师{order}",
        kind=draw(st.sampled_from(list(HandlerKind))), licence_number=f"L{order}",
        institution_id=f"i{draw(st.integers(0, 2))}", institution_name="某所", agency_id="a1",
        active=True, commitments=commitment, registered_order=order,
        years_of_practice=draw(st.integers(0, 8)),
        qualifications=frozenset(draw(st.sets(st.sampled_from(list(Qualification))))),
        suspensions=suspension,
        represented_parties=frozenset(draw(st.sets(st.sampled_from(PARTIES), max_size=2))),
        opposed_parties=frozenset(draw(st.sets(st.sampled_from(PARTIES), max_size=2))),
    )


@st.composite
def pools(draw) -> list[Candidate]:
    size = draw(st.integers(1, 6))
    return [draw(candidates(order)) for order in range(1, size + 1)]


@st.composite
def streams(draw, pool_size: int) -> list[tuple[CaseFacts, timedelta]]:
    n = draw(st.integers(1, 40))
    cases = []
    elapsed = timedelta()
    for i in range(n):
        elapsed += timedelta(hours=draw(st.integers(0, 72)))
        named = draw(st.one_of(st.none(), st.integers(1, pool_size + 1).map(lambda o: f"h{o}")))
        flags = CaseFlags(group_case=draw(st.booleans()) and draw(st.booleans()), named_handler_id=named,
                          major_or_sensitive=draw(st.booleans()) and draw(st.booleans()),
                          minor=draw(st.booleans()) and draw(st.booleans()),
                          possible_death_penalty_or_life_imprisonment=(draw(st.booleans())
                                                                       and draw(st.booleans())))
        case = CaseFacts(case_id=f"c{i}", case_number=f"FY-{i}", case_kind=CaseKind.criminal, agency_id="a1",
                         flags=flags,
                         adverse_party_hashes=draw(st.lists(st.sampled_from(PARTIES), max_size=2)),
                         aided_person_hash=draw(st.one_of(st.none(), st.sampled_from(PARTIES))))
        cases.append((case, elapsed))
    return cases


def institution_of(case_index: int) -> InstitutionFacts:
    return InstitutionFacts(institution_id=f"i{case_index % 3}", name="某所", agency_id="a1",
                            commitments=((date(2025, 1, 1), date(2027, 12, 31)),))


def arrange(assignment: CaseAssignment, institution: InstitutionFacts, pool: list[Candidate],
            rotation: Rotation, at: datetime) -> None:
    """The agency gives a case awaiting its choice to an institution, which tries its handlers in
    registration order until one may take it; a refusal happens only to a handler the rules bar."""
    assignment.give_to_institution(institution=institution, institution_id=institution.institution_id,
                                   reason="交由律所安排承办人", due_at=at + timedelta(days=1), at=at)
    staff = [c for c in pool if c.institution_id == institution.institution_id]
    for candidate in staff:
        try:
            assignment.arrange(institution_id=institution.institution_id, handler_id=candidate.handler_id,
                               candidate=candidate, staff=staff, reason="本所安排熟悉的律师",
                               rotation=rotation, at=at, monthly_cap=CAP)
        except HandlerNotEligible:
            assert not assess(candidate, rotation, assignment._policy(assignment.case, at, CAP)).eligible
            continue
        return


def run(pool: list[Candidate], stream) -> tuple[Rotation, list[tuple[CaseFacts, datetime, HandlerAssigned]]]:
    """Decide every case as the engine does, the rotation taking a turn on each assignment; a
    case awaiting the agency's choice goes to an institution, which arranges its handler."""
    rotation = Rotation("a1")
    by_id = {c.handler_id: c for c in pool}
    assigned = []
    for index, (case, elapsed) in enumerate(stream):
        at = START + elapsed
        assignment = CaseAssignment(case.case_id)
        assignment.decide(case=case, pool=pool, named=by_id.get(case.flags.named_handler_id or ""),
                          rotation=rotation, at=at, monthly_cap=CAP)
        if case.grounds():
            arrange(assignment, institution_of(index), pool, rotation, at)
        decision = assignment.decisions[-1]
        if isinstance(decision, HandlerAssigned):
            rotation.take_turn(case_id=case.case_id, handler_id=decision.handler.handler_id,
                               method=decision.method, group_case=case.flags.group_case, at=at)
            assigned.append((case, at, decision))
    return rotation, assigned


@st.composite
def scenarios(draw):
    pool = draw(pools())
    return pool, draw(streams(len(pool)))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_rule_of_eligibility_is_ever_overridden(scenario):
    pool, stream = scenario
    by_id = {c.handler_id: c for c in pool}
    _, assigned = run(pool, stream)
    per_month: Counter[tuple[str, str]] = Counter()
    for case, at, decision in assigned:
        chosen = by_id[decision.handler.handler_id]
        day = local_date(at)
        # R-PRV-3: a commitment in force that day; R-ASG-6: not suspended that day
        assert any(signed <= day <= until for signed, until in chosen.commitments)
        assert not any(until is None or day <= until for until in chosen.suspensions)
        # R-ASG-8: qualified for the case
        if case.flags.possible_death_penalty_or_life_imprisonment:
            assert chosen.kind == HandlerKind.lawyer and chosen.years_of_practice >= DEFAULT_SENIOR_YEARS
        if case.flags.minor:
            assert Qualification.minors in chosen.qualifications
        # never someone who (or whose institution) acted for an adverse party, nor against the
        # aided person (conflicts both ways)
        assert not chosen.represented_parties & set(case.adverse_party_hashes)
        assert case.aided_person_hash is None or case.aided_person_hash not in chosen.opposed_parties
        if decision.method == AssignmentMethod.arranged:  # R-PRV-4: one of the institution's own
            assert chosen.institution_id == institution_of(int(case.case_id[1:])).institution_id
        if not case.flags.group_case:
            per_month[(chosen.handler_id, local_month(at))] += 1
    # R-ASG-4: at most five non-group cases in a calendar month
    assert all(count <= CAP for count in per_month.values())


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_the_named_lawyer_wins_whenever_eligible(scenario):
    pool, stream = scenario
    by_id = {c.handler_id: c for c in pool}
    rotation = Rotation("a1")
    for case, elapsed in stream:
        at = START + elapsed
        named = by_id.get(case.flags.named_handler_id or "")
        policy = Policy(agency_id="a1", at=at, monthly_cap=CAP, count_cap=not case.flags.group_case,
                        case_kind=case.case_kind,
                        needs_senior=case.flags.possible_death_penalty_or_life_imprisonment,
                        needs_minors_qualification=case.flags.minor,
                        adverse_parties=frozenset(case.adverse_party_hashes),
                        aided_person=case.aided_person_hash)
        eligible_named = named is not None and assess(named, rotation, policy).eligible
        assignment = CaseAssignment(case.case_id)
        assignment.decide(case=case, pool=pool, named=named, rotation=rotation, at=at, monthly_cap=CAP)
        decision = assignment.decisions[-1]
        if eligible_named and not case.grounds():
            assert isinstance(decision, HandlerAssigned) and decision.method == AssignmentMethod.named
            assert decision.handler.handler_id == named.handler_id
        if isinstance(decision, HandlerAssigned):
            rotation.take_turn(case_id=case.case_id, handler_id=decision.handler.handler_id,
                               method=decision.method, group_case=case.flags.group_case, at=at)


def always_eligible(candidate: Candidate) -> Candidate:
    return replace(candidate, commitments=((date(2025, 1, 1), date(2027, 12, 31)),), suspensions=(),
                   represented_parties=frozenset(), opposed_parties=frozenset())


@settings(max_examples=100, deadline=None)
@given(pools(), st.integers(1, 60))
def test_rotation_keeps_always_eligible_handlers_within_one_case_of_each_other(drawn, n):
    """R-ASG-1 over plain cases (no named lawyer, no special needs), spread over months so the
    cap also comes and goes: turns never differ by more than one."""
    pool = [always_eligible(c) for c in drawn]
    stream = [(CaseFacts(case_id=f"c{i}", case_number=f"FY-{i}", case_kind=CaseKind.civil, agency_id="a1",
                         flags=CaseFlags()), timedelta(hours=8 * i)) for i in range(n)]
    _, assigned = run(pool, stream)
    counts = Counter(d.handler.handler_id for _, _, d in assigned)
    totals = [counts.get(c.handler_id, 0) for c in pool]
    assert max(totals) - min(totals) <= 1


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.data())
def test_reassignment_never_returns_the_case_to_a_released_handler(scenario, data):
    pool, stream = scenario
    by_id = {c.handler_id: c for c in pool}
    rotation, assigned = run(pool, stream)
    for case, at, decision in assigned[:5]:
        assignment = CaseAssignment(case.case_id)
        assignment.decide(case=case, pool=[by_id[decision.handler.handler_id]], named=None,
                          rotation=Rotation("x"), at=at, monthly_cap=CAP)
        released = []
        for _ in range(data.draw(st.integers(1, 3))):
            if assignment.handler is None:
                break
            released.append(assignment.handler.handler_id)
            assignment.reassign(current_handler_id=assignment.handler.handler_id, reason="breakdown_of_trust",
                                pool=pool, named=by_id.get(case.flags.named_handler_id or ""),
                                rotation=rotation, at=at + timedelta(hours=1), monthly_cap=CAP)
            if assignment.handler is not None:
                assert assignment.handler.handler_id not in released
                rotation.take_turn(case_id=case.case_id, handler_id=assignment.handler.handler_id,
                                   method=AssignmentMethod.rotation, group_case=case.flags.group_case,
                                   at=at + timedelta(hours=1))
