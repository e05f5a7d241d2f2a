"""Peer evaluation of closed cases (pure: no I/O), one module per concept:

- `case`: a closed case as evaluation knows it (from intake's CaseClosed), evaluated once;
- `grading`: the first-level indicators of each case kind's standard and the versioned rules that
  turn indicator grades into the case's grade (R-EVL-1, R-EVL-2);
- `review`: giving a closed case to a peer reviewer, avoidance checked at that moment (R-EVL-4,
  R-EVL-6); its stream is `review-<case_id>`;
- `evaluation`: a reviewer's grades for the case, recorded with the rule that graded them; its
  stream is `evaluation-<id>`;
- `standards`: the standards as data, versioned (the nine first-level indicators, each standard's
  indicators, second-level items and points), and the grading rule each agency chose (R-EVL-1,
  R-EVL-2); its streams are `standard-<standard_id>` and `grading-rule-<agency_id>`;
- `opinion`: the opinions of police, procuratorates and courts on the handler's work (R-EVL-5); its
  stream is `opinions-<case_id>`;
- `correction`: the findings sent to the handler with a deadline, and the correction (R-EVL-7); its
  stream is `correction-<evaluation_id>`;
- `rates`: the excellent-and-good rate of a group of results against the year's target (R-EVL-8,
  R-EVL-3);
- `schedule`: an agency's subsidy schedule, versioned: lines by kind and stage, a group case's
  multiplier, contract prices, the rule for a failed evaluation (R-CHK-3, R-EVL-7); its stream is
  `subsidy-schedule-<agency_id>`;
- `subsidy`: a case's subsidy, computed at the quality lead's sign-off, approved by finance, paid
  once, withheld, reduced or recovered after a fail (R-CHK-2, R-CHK-3, R-EVL-7); its stream is
  `subsidy-<case_id>`.

Which indicators belong to which standard, and which rule grades, are data: domain.md could not
confirm them from the standards' own text. The names other rooms use are listed here.
"""

from services.evaluation.domain.case import AlreadyEvaluated, ClosedCase
from services.evaluation.domain.correction import (
    AlreadyCorrected,
    Correction,
    CorrectionPolicy,
    CorrectionRecorded,
    CorrectionRequested,
    to_correct,
)
from services.evaluation.domain.evaluation import EvaluationCompleted, PeerEvaluation
from services.evaluation.domain.grading import (
    CIVIL_ADMINISTRATIVE_STANDARD,
    CRIMINAL_STANDARD,
    DEFAULT_RULE,
    GRADING_RULES,
    INDICATORS,
    STANDARD_BY_KIND,
    CaseGrading,
    CaseRule,
    GradingRule,
    Indicator,
    IndicatorsMismatch,
    Standard,
    UnknownGradingRule,
    default_v1,
    grade_case,
    grading_rule,
    standard_for,
)
from services.evaluation.domain.opinion import (
    Assessment,
    CaseOpinions,
    OpinionAlreadyGiven,
    OpinionCase,
    OpinionGiven,
    OrganKind,
    OrganRelation,
)
from services.evaluation.domain.rates import GradeCounts, RateTargets
from services.evaluation.domain.review import (
    CaseReview,
    Reviewer,
    ReviewerAlreadyGiven,
    ReviewerGiven,
    ReviewerNotIndependent,
    ReviewerNotQualified,
    ReviewersComplete,
    ReviewPolicy,
)
from services.evaluation.domain.schedule import (
    SEED,
    SEED_VERSION,
    AppliedLine,
    ContractPrice,
    FailedEvaluationAction,
    FailedEvaluationRule,
    ScheduleLine,
    ScheduleTerms,
    ScheduleVersionPublished,
    SubsidySchedule,
)
from services.evaluation.domain.standards import (
    FIRST_LEVEL,
    SEED_STANDARDS,
    STANDARD_KINDS,
    STANDARD_OF_KIND,
    AgencyGradingRule,
    GradingRuleChosen,
    StandardTerms,
    StandardVersion,
    StandardVersionRegistered,
    seed_for,
)
from services.evaluation.domain.standards import Standard as StandardEditions
from services.evaluation.domain.subsidy import (
    EvaluationFailureNoted,
    SignedOffCase,
    Subsidy,
    SubsidyApproved,
    SubsidyComputed,
    SubsidyPaid,
    SubsidyRecoveryOrdered,
    SubsidyReduced,
    SubsidyStatus,
    SubsidyWithheld,
    half_year,
)

__all__ = [
    "FIRST_LEVEL",
    "SEED_STANDARDS",
    "STANDARD_KINDS",
    "STANDARD_OF_KIND",
    "AgencyGradingRule",
    "AlreadyCorrected",
    "Assessment",
    "CaseGrading",
    "CaseOpinions",
    "CaseRule",
    "Correction",
    "CorrectionPolicy",
    "CorrectionRecorded",
    "CorrectionRequested",
    "GradeCounts",
    "GradingRuleChosen",
    "OpinionAlreadyGiven",
    "OpinionCase",
    "OpinionGiven",
    "OrganKind",
    "OrganRelation",
    "RateTargets",
    "StandardEditions",
    "StandardTerms",
    "StandardVersion",
    "StandardVersionRegistered",
    "grade_case",
    "seed_for",
    "to_correct",
    "SEED",
    "SEED_VERSION",
    "AppliedLine",
    "ContractPrice",
    "EvaluationFailureNoted",
    "FailedEvaluationAction",
    "FailedEvaluationRule",
    "ScheduleLine",
    "ScheduleTerms",
    "ScheduleVersionPublished",
    "SignedOffCase",
    "Subsidy",
    "SubsidyApproved",
    "SubsidyComputed",
    "SubsidyPaid",
    "SubsidyRecoveryOrdered",
    "SubsidyReduced",
    "SubsidySchedule",
    "SubsidyStatus",
    "SubsidyWithheld",
    "half_year",
    "CIVIL_ADMINISTRATIVE_STANDARD",
    "CRIMINAL_STANDARD",
    "DEFAULT_RULE",
    "GRADING_RULES",
    "INDICATORS",
    "STANDARD_BY_KIND",
    "AlreadyEvaluated",
    "CaseReview",
    "ClosedCase",
    "EvaluationCompleted",
    "GradingRule",
    "Indicator",
    "IndicatorsMismatch",
    "PeerEvaluation",
    "ReviewPolicy",
    "Reviewer",
    "ReviewerAlreadyGiven",
    "ReviewerGiven",
    "ReviewerNotIndependent",
    "ReviewerNotQualified",
    "ReviewersComplete",
    "Standard",
    "UnknownGradingRule",
    "default_v1",
    "grading_rule",
    "standard_for",
]
