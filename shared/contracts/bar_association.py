"""Events the bar association's system publishes (Fayuan receives them): its answers to the
bureau's notices, on `legalaid.bar-association.outcomes` (key: the case id of the notice).

The bar association answers each notice (R-SAN-4) as its own procedure goes on: it received the
notice, it opened an investigation, it decided an industry discipline (行业处分) of one of the
kinds its rules know, or it found no violation. Fayuan's sanctions service records each answer
against its notice; the same answers may be sent over REST instead (docs/sanctions.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from shared.contracts.common import EXAMPLE_CASE_ID
from shared.events import IntegrationEvent, integration_event

BAR_OUTCOMES = "legalaid.bar-association.outcomes"

EXAMPLE_NOTICE_ID = "b4315d48-97c1-4624-8b5e-c5a216c95b76"


class OutcomeKind(StrEnum):
    """How far the bar association has got with a notice."""

    received = "received"  # 已收到
    investigation_opened = "investigation_opened"  # 已立案调查
    discipline_decided = "discipline_decided"  # 已作出行业处分
    no_violation_found = "no_violation_found"  # 经调查未发现违规

    @property
    def concludes(self) -> bool:
        """A decision ends the bar association's handling of the notice."""
        return self in (OutcomeKind.discipline_decided, OutcomeKind.no_violation_found)


class DisciplineKind(StrEnum):
    """The industry disciplines of the bar associations (律师协会会员违规行为处分规则)."""

    admonition = "admonition"  # 训诫
    warning = "warning"  # 警告
    circulated_criticism = "circulated_criticism"  # 通报批评
    public_censure = "public_censure"  # 公开谴责
    membership_suspension = "membership_suspension"  # 中止会员权利
    expulsion = "expulsion"  # 取消会员资格


@integration_event
class BarOutcomeReported(IntegrationEvent):
    """The bar association's answer to one of the bureau's notices (R-SAN-4, R-SAN-5), produced by
    the bar association's system. `discipline` is given exactly when `outcome` is
    `discipline_decided`; `decided_on` is required for the two decisions (`discipline_decided`,
    `no_violation_found`). Fayuan records one answer per notice and outcome kind: the same kind
    sent again changes nothing. A message that breaks these rules goes to the dead-letter topic."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "notice_id": EXAMPLE_NOTICE_ID, "case_id": EXAMPLE_CASE_ID, "outcome": "discipline_decided",
        "discipline": "circulated_criticism", "decided_on": "2026-11-20",
        "reference": "京律协纪字〔2026〕第37号", "reported_at": "2026-11-20T08:30:00Z",
    }]})

    type: ClassVar[str] = "legalaid.bar-association.outcome-reported.v1"
    topic: ClassVar[str] = BAR_OUTCOMES
    key_field: ClassVar[str] = "case_id"

    notice_id: str = Field(min_length=1, max_length=64, description="The notice answered (BarNoticeIssued)")
    case_id: str = Field(min_length=1, max_length=64, description="The notice's case id: the message's key")
    outcome: OutcomeKind
    discipline: DisciplineKind | None = Field(
        default=None, description="The discipline decided; only with outcome discipline_decided")
    decided_on: date | None = Field(
        default=None, description="The day of the decision; required with discipline_decided and "
                                  "no_violation_found")
    reference: str | None = Field(default=None, max_length=200,
                                  description="The bar association's own file number (文号)")
    reported_at: datetime = Field(description="When the bar association's system sent the answer")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.discipline is not None) != (self.outcome == OutcomeKind.discipline_decided):
            raise ValueError("discipline is given exactly when the outcome is discipline_decided")
        if self.outcome.concludes and self.decided_on is None:
            raise ValueError(f"decided_on is required when the outcome is {self.outcome.value}")
        return self
