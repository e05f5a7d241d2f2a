"""The method of R-EVL-6 and R-EVL-4, pure: the reproducible draw and allocation, avoidance by
case, institution and region (property test), the panel's rule and Fleiss' kappa."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.evaluation.domain.agreement import fleiss_kappa
from services.evaluation.domain.panel import DrawnCase, NotTheFilesStandard, PanelFile, lower_median
from services.evaluation.domain.pool import Candidate, ExpertProfile, PracticeField, QualificationRule
from services.evaluation.domain.round import DrawRule, RoundPolicy, allocate, draw, rank, sample_size
from services.evaluation.domain.standards import seed_for
from shared.contracts import CaseKind, Grade, HandlerRef

AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
OPENS = date(2026, 11, 2)


def expert(institution: str = "firm-b", district: str = "海淀区", **kw) -> ExpertProfile:
    return ExpertProfile(
        **{
            "name": "王律师",
            "licence_number": "11101200510000001",
            "practising_since": date(2010, 3, 1),
            "fields": (PracticeField.criminal,),
            "district": district,
            "institution_id": institution,
            "institution_name": institution,
            "trained_on": (date(2026, 9, 1),),
            **kw,
        }
    )


def test_the_same_seed_draws_the_same_cases_and_reviewers_and_another_seed_does_not():
    candidates = [f"case-{i:04d}" for i in range(500)]
    first = draw(
        candidates, rule=DrawRule.sample, seed="2026-h2-chaoyang", size=sample_size(1200, Decimal("0.002"))
    )
    again = draw(list(reversed(candidates)), rule=DrawRule.sample, seed="2026-h2-chaoyang", size=3)
    assert first == again and len(first) == 3  # ceil(1200 x 0.2%) = 3, whatever the input order
    assert draw(candidates, rule=DrawRule.sample, seed="other", size=3) != first
    # The published algorithm, re-run by hand: the 3 smallest SHA-256 of "seed|case_id".
    assert first == sorted(candidates, key=lambda c: rank("2026-h2-chaoyang", c))[:3]
    assert draw(candidates, rule=DrawRule.all, seed="s") == sorted(candidates, key=lambda c: rank("s", c))
    experts = {f"r-{i}": expert(institution=f"firm-{i}") for i in range(30)}
    file = Candidate("case-0001", CaseKind.criminal, "chaoyang-centre", "朝阳区", "lawyer-li", "firm-a")
    picks = [
        allocate(file, experts, seed="s", stage="first", count=1, opens_on=OPENS, policy=RoundPolicy())
        for _ in range(2)
    ]
    assert picks[0] == picks[1] and len(picks[0]) == 1


def test_qualification_years_field_discipline_and_training_are_configurable():
    rule = QualificationRule()
    ok = expert()
    assert rule.refusals("r", ok, CaseKind.criminal, OPENS) == []
    assert rule.refusals("r", ok, CaseKind.civil, OPENS) == ["does not practise in the civil field"]
    assert rule.refusals("r", expert(practising_since=date(2022, 1, 1)), CaseKind.criminal, OPENS) == [
        "fewer than 5 years of practice"
    ]
    assert rule.refusals("r", expert(disciplined_on=(date(2024, 5, 1),)), CaseKind.criminal, OPENS) == [
        "disciplined within the last 3 years"
    ]
    assert rule.refusals("r", expert(disciplined_on=(date(2023, 5, 1),)), CaseKind.criminal, OPENS) == []
    assert rule.refusals("r", expert(trained_on=(date(2026, 12, 1),)), CaseKind.criminal, OPENS) == [
        "not trained before the round opens"
    ]
    assert (
        QualificationRule(min_years=3).refusals(
            "r", expert(practising_since=date(2022, 1, 1)), CaseKind.criminal, OPENS
        )
        == []
    )


institutions = st.sampled_from(["firm-a", "firm-b", "firm-c", "firm-d"])
districts = st.sampled_from(["朝阳区", "海淀区", "东城区"])
agencies = st.sampled_from(["chaoyang-centre", "haidian-centre", "dongcheng-centre"])


@settings(max_examples=150, deadline=None)
@given(
    experts=st.dictionaries(
        st.sampled_from([f"r-{i}" for i in range(8)] + ["lawyer-li"]),
        st.tuples(institutions, districts, st.lists(agencies, max_size=2)),
        max_size=9,
    ),
    files=st.lists(
        st.tuples(st.sampled_from(["lawyer-li", "r-1", "r-2"]), institutions, districts, agencies),
        min_size=1,
        max_size=6,
    ),
    seed=st.text(min_size=1, max_size=8),
    count=st.integers(1, 3),
)
def test_no_reviewer_is_given_their_own_case_institution_or_region(experts, files, seed, count):
    pool = {
        rid: expert(institution=i, district=d, assigning_agencies=tuple(a))
        for rid, (i, d, a) in experts.items()
    }
    for n, (handler, institution, district, agency) in enumerate(files):
        file = Candidate(f"case-{n}", CaseKind.criminal, agency, district, handler, institution)
        for stage in ("first", "re-read"):
            for rid in allocate(
                file, pool, seed=seed, stage=stage, count=count, opens_on=OPENS, policy=RoundPolicy()
            ):
                assert rid != handler
                assert pool[rid].institution_id != institution
                assert pool[rid].district != district
                assert agency not in pool[rid].assigning_agencies


HANDLER = HandlerRef(
    handler_id="lawyer-li",
    name="李明",
    kind="lawyer",
    institution_id="firm-a",
    institution_name="北京甲律师事务所",
)
CASE = DrawnCase(
    case_id="case-1",
    case_number="FY-1",
    case_kind=CaseKind.criminal,
    agency_id="chaoyang-centre",
    district="朝阳区",
    handler=HANDLER,
    closed_at=AT,
)
KEYS = (
    "meeting",
    "file_review",
    "investigation_work",
    "legal_opinion",
    "hearing",
    "notice_duty",
    "report_duty",
    "closing_file",
)


def grades(grade: str, fail: bool = False) -> dict[str, Grade]:
    g = dict.fromkeys(KEYS, Grade(grade))
    if fail:
        g["meeting"] = Grade.fail
    return g


def panel(first: list[str]) -> PanelFile:
    file = PanelFile("round-1.case-1")
    file.draw(
        round_id="round-1",
        case=CASE,
        seed="s",
        rule_version="default-v1",
        standard_version=CRIMINAL_V1.version,
        readers=first,
        wanted=len(first),
        at=AT,
    )
    return file


CRIMINAL_V1 = seed_for(CaseKind.criminal)


def staff(stage: str, count: int, exclude: set[str]) -> list[str]:
    return [r for r in ("r-2", "r-3", "r-4", "r-5", "r-6", "r-7") if r not in exclude][:count]


@pytest.mark.parametrize(
    ("second", "third", "result"),
    [
        ("fail", "fail", Grade.fail),  # confirmed: two more fail
        ("fail", "good", Grade.fail),  # two of three fail: the fail stands
        ("good", "excellent", Grade.good),  # one fail of three: the majority's grade, not a fail
    ],
)
def test_a_fail_is_re_read_by_two_more_and_the_panel_follows_the_majority(second, third, result):
    file = panel(["r-1"])
    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-1", indicators=grades("good", fail=True), findings="未会见", at=AT, staff=staff)
    assert file.readers == {"r-1": "first", "r-2": "re-read", "r-3": "re-read"} and not file.results
    for rid, g in (("r-2", second), ("r-3", third)):
        file.read(
            standard=CRIMINAL_V1,
            reviewer_id=rid,
            indicators=grades(g if g != "fail" else "good", fail=g == "fail"),
            findings="…",
            at=AT,
            staff=staff,
        )
    assert [r.grade for r in file.results] == [result]
    final = file.finalise(at=AT)
    assert final is not None and final.grade == result and file.finalise(at=AT) is None


def test_two_from_the_start_a_pass_is_decided_without_more_and_a_dispute_is_a_new_result():
    file = panel(["r-1", "r-2"])
    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-1", indicators=grades("excellent"), findings="好", at=AT, staff=staff)
    assert not file.results
    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-2", indicators=grades("good"), findings="良", at=AT, staff=staff)
    assert [r.grade for r in file.results] == [Grade.good]  # the lower of two
    file.dispute(reason="评分偏低", by="quality-lead", at=AT, staff=staff)
    assert [r for r, s in file.readers.items() if s == "re-review"] == ["r-3", "r-4", "r-5"]
    assert file.finalise(at=AT) is None  # the re-review is still being read
    for rid in ("r-3", "r-4", "r-5"):
        file.read(standard=CRIMINAL_V1,
                  reviewer_id=rid, indicators=grades("excellent"), findings="优", at=AT, staff=staff)
    assert [(r.result_no, r.grade) for r in file.results] == [(1, Grade.good), (2, Grade.excellent)]
    final = file.finalise(at=AT)
    assert final is not None and (final.result_no, final.grade) == (2, Grade.excellent)


def test_a_points_panel_takes_the_lower_median_total_and_a_veto_at_least_half_its_readers_list():
    """Under points-90-80-60: a first reading of 75 points with the hearing not attended (a veto: it
    fails, its hearing counts 0, total 60) re-read as 85 (good) and 58 (fail): two of three fail;
    the total is the lower median of 60, 85, 58 (60), each indicator's points the lower median of
    its points; the veto item listed by one of three is not the panel's, nor its hearing's fail."""
    file = PanelFile("round-1.case-2")
    file.draw(round_id="round-1", case=CASE, seed="s", rule_version="points-90-80-60",
              standard_version=CRIMINAL_V1.version, readers=["r-1"], wanted=1, at=AT)
    weights = {i.key: Decimal(i.max_points) for i in CRIMINAL_V1.terms.indicators}

    def points(total: int) -> dict[str, Decimal]:
        given, short = dict(weights), Decimal(100 - total)
        for key in ("legal_opinion", "meeting", "closing_file"):
            taken = min(short, given[key])
            given[key], short = given[key] - taken, short - taken
        return given

    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-1", indicators=grades("good"), findings="…", at=AT,
              staff=staff, points=points(75), not_done=["hearing.attended"])
    assert file.readings["r-1"].grade is Grade.fail  # the veto fails it, and its 15 points count 0
    assert file.readings["r-1"].total_points == Decimal(60)
    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-2", indicators=grades("good"), findings="…", at=AT,
              staff=staff, points=points(85))
    file.read(standard=CRIMINAL_V1,
              reviewer_id="r-3", indicators=grades("good"), findings="…", at=AT,
              staff=staff, points=points(58))
    (result,) = file.results
    assert (result.grade, result.total_points, result.not_done) == (Grade.fail, Decimal(60), [])
    assert result.indicators["hearing"] is Grade.good  # fail, good, good
    assert result.points is not None and result.points["hearing"] == weights["hearing"]  # 0, 15, 15
    assert result.points["legal_opinion"] == 0  # 0, 5, 0
    with pytest.raises(NotTheFilesStandard):
        other = panel(["r-1"])
        other.read(standard=seed_for(CaseKind.civil), reviewer_id="r-1", indicators=grades("good"),
                   findings="…", at=AT, staff=staff)


def test_the_lower_median_is_the_majority_of_three():
    assert lower_median([Grade.fail, Grade.excellent, Grade.pass_]) == Grade.pass_
    assert lower_median([Grade.good, Grade.good, Grade.fail]) == Grade.good


def test_fleiss_kappa_worked_example():
    # The worked example of Fleiss' kappa as published (Wikipedia, "Fleiss' kappa", worked example;
    # the formula of Fleiss 1971): 10 subjects, 14 raters, 5 categories;
    # P = 0.378, P_e = 0.213, kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    kappa = fleiss_kappa(table)
    assert kappa is not None and round(kappa, 3) == 0.210
    assert fleiss_kappa([[3, 0, 0, 0], [0, 3, 0, 0]]) == 1.0
    assert fleiss_kappa([[3, 0], [3, 0]]) is None
