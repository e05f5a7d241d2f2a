"""What evaluation is about: a closed case as intake reported it (CaseClosed), less what
evaluation has no use for, and whether it already has its one evaluation."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.aggregate import Conflict
from shared.contracts import CaseKind, HandlerRef


class AlreadyEvaluated(Conflict):
    pass


class ClosedCase(BaseModel):
    """A closed case as evaluation knows it (from intake's CaseClosed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    closed_at: datetime
    evaluation_id: str | None = None

    def check_not_evaluated(self) -> None:
        """A case has one evaluation: once it has it, it is neither given nor graded again."""
        if self.evaluation_id is not None:
            raise AlreadyEvaluated(
                f"case {self.case_number} already has a completed evaluation ({self.evaluation_id})"
            )
