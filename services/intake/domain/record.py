"""The handling record (pure): what the handler (or the agency) did on a case, one entry each.

Each kind is a duty of domain.md R-HDL-1..5 and R-ASG-9. The entries' free text (the record of a
conversation, file notes) may hold personal data: it stays in intake's store and is never in an
integration event, a log, the timeline or the case list.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(min_length=1, max_length=20_000)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mandate(_Entry):
    """委托: the mandate signed with the aided person (R-ASG-9)."""

    kind: Literal["mandate"] = "mandate"
    agreement_signed: bool = Field(description="The legal-aid agreement (委托协议) is signed")
    power_of_attorney_signed: bool = Field(description="The power of attorney (授权委托书) is signed")


class Meeting(_Entry):
    """会见: a meeting with the aided person and the record of the conversation (R-HDL-1)."""

    kind: Literal["meeting"] = "meeting"
    rights_explained: bool = Field(description="Their rights were explained (权利告知)")
    obligations_explained: bool = Field(description="Their obligations were explained (义务告知)")
    risks_explained: bool = Field(description="The litigation risks were explained (风险告知)")
    conversation_record: Text = Field(description="谈话笔录: the conversation, recorded in detail")


class FileReview(_Entry):
    """阅卷: reading the case file, with complete and specific notes (R-HDL-2)."""

    kind: Literal["file_review"] = "file_review"
    notes: Text = Field(description="阅卷笔录")


class InvestigationWork(_Entry):
    """调查取证: investigation and evidence collection (R-HDL-4)."""

    kind: Literal["investigation_work"] = "investigation_work"
    description: Text
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=200, description="What was collected, one item each")


class OpinionKind(StrEnum):
    defence_statement = "defence_statement"  # 辩护词
    representation_statement = "representation_statement"  # 代理词
    other = "other"


class LegalOpinion(_Entry):
    """法律意见: the defence or representation statement (R-HDL-3)."""

    kind: Literal["legal_opinion"] = "legal_opinion"
    opinion_kind: OpinionKind
    text: Text


class Hearing(_Entry):
    """出庭: a court hearing (or mediation, arbitration session) attended."""

    kind: Literal["hearing"] = "hearing"
    venue: str = Field(min_length=1, max_length=200, description="The court or body that held it")
    attended: bool = True
    notes: str | None = Field(default=None, max_length=20_000)


class Report(_Entry):
    """报告: a report to the agency (the duty to report)."""

    kind: Literal["report"] = "report"
    subject: str = Field(min_length=1, max_length=200)
    text: Text


class Document(_Entry):
    """A document attached to the case's file: its metadata and checksum (the bytes live elsewhere)."""

    kind: Literal["document"] = "document"
    title: str = Field(min_length=1, max_length=200)
    media_type: str = Field(min_length=3, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file, lowercase hex")


WorkEntry = Annotated[
    Mandate | Meeting | FileReview | InvestigationWork | LegalOpinion | Hearing | Report | Document,
    Field(discriminator="kind"),
]


def summary(entry: _Entry) -> str:
    """What the timeline says about an entry: the facts of the duty, never its free text."""
    match entry:
        case Mandate():
            return (f"mandate: agreement {'signed' if entry.agreement_signed else 'not signed'}, "
                    f"power of attorney {'signed' if entry.power_of_attorney_signed else 'not signed'}")
        case Meeting():
            told = [w for w, done in (("rights", entry.rights_explained),
                                      ("obligations", entry.obligations_explained),
                                      ("risks", entry.risks_explained)) if done]
            return f"meeting with the aided person; explained: {', '.join(told) or 'nothing'}"
        case FileReview():
            return "case file read, notes kept"
        case InvestigationWork():
            return f"investigation and evidence collection ({len(entry.evidence)} items)"
        case LegalOpinion():
            return f"legal opinion: {entry.opinion_kind}"
        case Hearing():
            return f"hearing at {entry.venue}: {'attended' if entry.attended else 'absent'}"
        case Report():
            return "report to the agency"
        case Document():
            return f"document attached ({entry.media_type}, {entry.size_bytes} bytes, sha256 {entry.sha256})"
    return "entry"

