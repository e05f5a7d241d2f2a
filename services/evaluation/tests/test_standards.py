"""The standards as data and the grading rules, by worked examples (pure): each standard's
membership and items, each preset at its thresholds, the veto items and the late file."""

import importlib.util
from decimal import Decimal

import pytest

from services.evaluation.app import MIGRATIONS
from services.evaluation.domain import (
    SEED_STANDARDS,
    GradeCounts,
    RateTargets,
    grade_case,
    seed_for,
)
from services.evaluation.domain.grading import NotAVetoItem, PointsOutsideStandard, PointsRequired
from shared.contracts import CaseKind, Grade

E, G, P, F = Grade.excellent, Grade.good, Grade.pass_, Grade.fail
CRIMINAL, CIVIL = seed_for(CaseKind.criminal), seed_for(CaseKind.civil)


def test_criminal_grades_on_2_to_9_and_civil_on_1_to_7_and_9_with_7_and_8_together():
    assert [i.members for i in CRIMINAL.terms.indicators] == [[n] for n in range(2, 10)]
    assert [i.members for i in CIVIL.terms.indicators] == [[1], [2], [3], [4], [5], [6], [7, 8], [9]]
    assert (CRIMINAL.code, CIVIL.code) == ("SF/T 0086-2020", "SF/T 0085-2020")
    assert seed_for(CaseKind.administrative) is CIVIL and seed_for(CaseKind.non_litigation) is CIVIL
    for standard in SEED_STANDARDS:
        assert sum(i.max_points for i in standard.terms.indicators) == 100


def test_second_level_items_come_from_the_handlers_duties():
    duties = {item.duty for s in SEED_STANDARDS for i in s.terms.indicators for item in i.items}
    assert {"R-HDL-1", "R-HDL-2", "R-HDL-3", "R-HDL-4", "R-HDL-5", "R-ASG-9"} <= duties
    # Work not done at all: no meeting, no opinion, absent from the hearing, money taken.
    assert {"meeting.met", "legal_opinion.given", "hearing.attended", "conduct.no_money_taken"} <= set(
        CRIMINAL.veto_items)
    assert CIVIL.veto_items["mandate.signed"] == "mandate"


def test_the_migration_seeds_exactly_the_domains_version_1():
    spec = importlib.util.spec_from_file_location(
        "seed", MIGRATIONS / "versions" / "0007_standards_opinions.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    seeded = {s["version"]: s for s in migration.SEED}
    for standard in SEED_STANDARDS:
        row = seeded.pop(standard.version)
        assert (row["standard_id"], row["number"], row["code"], row["case_kinds"]) == (
            standard.standard_id, 1, standard.code, [k.value for k in standard.case_kinds])
        assert row["indicators"] == [i.model_dump(mode="json") for i in standard.terms.indicators]
    assert seeded == {}


def all_(grade: Grade, standard=CRIMINAL) -> dict[str, Grade]:
    return dict.fromkeys(standard.indicator_keys, grade)


def points(total: int, standard=CRIMINAL) -> dict[str, Decimal]:
    """`total` points spread over the indicators: each its full weight, less what is missing taken
    from the first indicators."""
    given = {i.key: Decimal(i.max_points) for i in standard.terms.indicators}
    short = 100 - total
    for key in given:
        take = min(short, int(given[key]))
        given[key] -= take
        short -= take
    return given


@pytest.mark.parametrize(("total", "expected"),
                         [(100, E), (90, E), (89, G), (80, G), (79, P), (60, P), (59, F)])
@pytest.mark.parametrize("standard", [CRIMINAL, CIVIL])
def test_points_90_80_60_at_its_thresholds(total, expected, standard):
    graded = grade_case(standard=standard, rule_version="points-90-80-60", indicators=all_(G, standard),
                        points=points(total, standard))
    assert (graded.grade, graded.total_points) == (expected, Decimal(total))
    assert (graded.rule_version, graded.standard_version) == ("points-90-80-60", standard.version)


@pytest.mark.parametrize(("total", "expected"), [(100, G), (80, G), (79, P), (60, P), (59, F)])
@pytest.mark.parametrize("standard", [CRIMINAL, CIVIL])
def test_points_80_late_fails_at_its_thresholds(total, expected, standard):
    graded = grade_case(standard=standard, rule_version="points-80-late-fails", indicators=all_(E, standard),
                        points=points(total, standard))
    assert graded.grade == expected


@pytest.mark.parametrize("standard", [CRIMINAL, CIVIL])
def test_a_file_archived_late_fails_outright_only_under_points_80_late_fails(standard):
    full = points(100, standard)
    assert grade_case(standard=standard, rule_version="points-80-late-fails", indicators=all_(E, standard),
                      points=full, late_file=True).grade == F
    assert grade_case(standard=standard, rule_version="points-90-80-60", indicators=all_(E, standard),
                      points=full, late_file=True).grade == E
    assert grade_case(standard=standard, rule_version="default-v1", indicators=all_(E, standard),
                      late_file=True).grade == E


@pytest.mark.parametrize("rule", ["default-v1", "points-90-80-60", "points-80-late-fails"])
@pytest.mark.parametrize(("standard", "veto"), [
    (CRIMINAL, "meeting.met"), (CRIMINAL, "hearing.attended"), (CIVIL, "legal_opinion.given"),
    (CIVIL, "conduct.no_money_taken")])
def test_work_not_done_at_all_fails_its_indicator_and_the_case_under_every_rule(rule, standard, veto):
    graded = grade_case(standard=standard, rule_version=rule, indicators=all_(E, standard),
                        points=points(100, standard), not_done=[veto])
    indicator = standard.veto_items[veto]
    assert graded.grade == F and graded.indicators[indicator] == F and graded.not_done == (veto,)
    assert graded.points is not None and graded.points[indicator] == 0


@pytest.mark.parametrize(("standard", "grades", "expected"), [
    (CRIMINAL, [E] * 6 + [G] * 2, E), (CRIMINAL, [E] * 6 + [G, P], G), (CIVIL, [G] * 6 + [P] * 2, G),
    (CIVIL, [G] * 5 + [P] * 3, P), (CIVIL, [E] * 7 + [F], F),
])
def test_default_v1_under_each_standard(standard, grades, expected):
    indicators = dict(zip(standard.indicator_keys, grades, strict=True))
    assert grade_case(standard=standard, rule_version="default-v1", indicators=indicators).grade == expected


def test_a_points_rule_needs_points_within_each_indicators_weight_and_veto_items_of_the_version():
    with pytest.raises(PointsRequired, match="^points: "):
        grade_case(standard=CRIMINAL, rule_version="points-90-80-60", indicators=all_(G))
    over = {**points(100), "legal_opinion": Decimal(21)}
    with pytest.raises(PointsOutsideStandard, match="legal_opinion is worth 0 to 20"):
        grade_case(standard=CRIMINAL, rule_version="points-90-80-60", indicators=all_(G), points=over)
    with pytest.raises(NotAVetoItem, match="mandate.signed"):
        # the criminal standard has no mandate indicator (its indicators are 2-9)
        grade_case(standard=CRIMINAL, rule_version="default-v1", indicators=all_(G),
                   not_done=["mandate.signed"])


def test_the_rate_rounds_as_published_and_is_compared_with_the_target_before_rounding():
    two_of_three = GradeCounts(good=2, pass_=1)
    assert two_of_three.rate == Decimal("66.7")
    assert two_of_three.below(Decimal("66.7"))  # 66.66...% is under 66.7%
    assert not GradeCounts(excellent=1, good=3, fail=1).below(Decimal(80))  # exactly 80%
    assert GradeCounts().rate is None and not GradeCounts().below(Decimal(70))
    targets = RateTargets({2026: Decimal(70), 2027: Decimal(80)})
    assert [targets.for_period(p) for p in ("2025-H2", "2026-H1", "2027-H2", "2030-H1")] == [
        None, Decimal(70), Decimal(80), Decimal(80)]


def test_the_targets_and_the_correction_days_are_settings():
    from pydantic import ValidationError

    from services.evaluation.settings import EvaluationSettings

    default = EvaluationSettings()
    assert default.rate_targets.by_year == {2026: Decimal(70), 2027: Decimal(80)}
    assert default.correction_policy.days == 15
    with pytest.raises(ValidationError, match="YEAR:PERCENT"):
        EvaluationSettings(excellent_good_targets=["2026:170"])
