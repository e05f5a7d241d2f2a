"""Assignment's domain (pure: no I/O), one module per concept: the provider registry
(`registry`), the rotation of an agency's pool (`rotation`), who may take a case (`eligibility`),
one case's assignment (`assignment`), each agency's published rules (`rules`) and its
recruitment calls (`recruitment`). What the other rooms use is named here."""

from services.assignment.domain.assignment import (
    MIN_REASON_LENGTH,
    AlreadyAssigned,
    AssignmentBlocked,
    AssignmentEnded,
    AssignmentStatus,
    CaseAssignment,
    CaseAwaitingChoice,
    CaseFacts,
    CaseGivenToInstitution,
    CaseTakenBackFromInstitution,
    Grounds,
    HandlerAssigned,
    HandlerDeclined,
    HandlerNotEligible,
    HandlerReleased,
    InstitutionNotEligible,
    NotAwaitingChoice,
    NotAwaitingInstitution,
    NotYourCase,
    arrangement_due,
)
from services.assignment.domain.eligibility import (
    DEFAULT_MONTHLY_CAP,
    DEFAULT_SENIOR_YEARS,
    Assessment,
    Candidate,
    Ineligibility,
    InstitutionFacts,
    Policy,
    assess,
    rotation_order,
)
from services.assignment.domain.recruitment import (
    AlreadyAnnounced,
    DeadlinePassed,
    RecruitmentCall,
    RecruitmentCallAnnounced,
)
from services.assignment.domain.registry import (
    CommitmentSigned,
    CommitmentWithdrawn,
    Handler,
    HandlerRegistered,
    HandlerReinstated,
    HandlerSuspended,
    Institution,
    InstitutionKind,
    InstitutionRecruited,
    InvalidField,
    Qualification,
    Recruitment,
    RecruitmentMethod,
    UnavailabilityRecorded,
)
from services.assignment.domain.rotation import Rotation, TurnTaken
from services.assignment.domain.rules import (
    AlreadyPublished,
    AppliedRules,
    AssignmentRules,
    RulesFiled,
    RulesPublished,
)

__all__ = [
    "DEFAULT_MONTHLY_CAP", "DEFAULT_SENIOR_YEARS", "MIN_REASON_LENGTH",
    "AlreadyAssigned", "AlreadyPublished", "AppliedRules", "Assessment", "AssignmentBlocked",
    "AssignmentEnded", "AssignmentRules", "AssignmentStatus", "Candidate", "CaseAssignment",
    "CaseAwaitingChoice", "CaseFacts", "CaseGivenToInstitution", "CaseTakenBackFromInstitution",
    "CommitmentSigned", "CommitmentWithdrawn", "Grounds", "Handler",
    "HandlerAssigned", "HandlerNotEligible", "HandlerRegistered", "HandlerReinstated", "HandlerReleased",
    "HandlerSuspended", "Ineligibility", "Institution", "InstitutionFacts", "InstitutionKind",
    "InstitutionNotEligible", "InstitutionRecruited", "InvalidField", "NotAwaitingChoice",
    "NotAwaitingInstitution", "Policy", "Qualification", "Recruitment", "RecruitmentMethod",
    "Rotation", "RulesFiled", "RulesPublished", "TurnTaken", "UnavailabilityRecorded",
    "arrangement_due", "assess", "rotation_order",
    "HandlerSuspended", "Ineligibility", "Institution", "InstitutionKind", "InstitutionRecruited",
    "InvalidField", "NotAwaitingChoice", "Policy", "Qualification", "Recruitment", "RecruitmentMethod",
    "Rotation", "RulesFiled", "RulesPublished", "TurnTaken", "UnavailabilityRecorded", "assess",
    "rotation_order", "HandlerDeclined", "NotYourCase",
    "AlreadyAnnounced", "DeadlinePassed", "RecruitmentCall", "RecruitmentCallAnnounced",
]
