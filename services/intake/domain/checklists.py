"""The closing check's checklists and the check's verdict (pure): what a designated checker of the
agency verifies in a closing file against the "excellent and good" standard of the case's kind
(R-CHK-1), and what the file and the handling record must show for each item.

One checklist per kind of case, under its standard: SF/T 0086-2020 for criminal cases, SF/T
0085-2020 for civil, administrative and (by agencies' practice) non-litigation cases. The
standards' second-level items are not available (domain.md), so the seed items (version 1, the
same for every agency) come from the duties of R-HDL-1..5 and R-ASG-9 under the first-level
indicators each standard uses. They are agency data: an agency files a new version of a kind's
checklist (`AgencyChecklist`), and each check records the version it used.

Each item names the evidence it needs (`Evidence`): what the handler's closing file says it holds
and what the handling record holds. The verdict of an item is the evidence AND the checker's own
answer: the checker can fail an item the evidence supports, never pass one the evidence lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.intake.domain.closing import ClosingChecklist
from services.intake.domain.record import Hearing, LegalOpinion, Mandate, Meeting, Report, WorkEntry
from shared.aggregate import Aggregate, Conflict, DomainEvent, Forbidden, Invalid
from shared.contracts import CaseKind
from shared.contracts.intake import CriminalRole

SEED_VERSION = 1


class Evidence(StrEnum):
    """What the closing file and the handling record must show; an item needs some of these."""

    mandate_signed = "mandate_signed"  # R-ASG-9
    meeting_held = "meeting_held"  # R-HDL-1
    rights_and_risks_explained = "rights_and_risks_explained"  # R-HDL-1
    file_read = "file_read"  # R-HDL-2
    opinion_filed = "opinion_filed"  # R-HDL-3
    investigation_accounted = "investigation_accounted"  # R-HDL-4
    hearings_attended = "hearings_attended"  # R-HDL-1..4: where the case had a hearing
    reports_filed = "reports_filed"  # the duty to report
    outcome_document = "outcome_document"  # R-HDL-5


Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]


class CheckItem(BaseModel):
    """An item of a closing checklist: its words, and the evidence it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Key
    text: str = Field(min_length=1, max_length=500)
    text_zh: str = Field(min_length=1, max_length=500)
    evidence: tuple[Evidence, ...] = Field(
        default=(), max_length=len(Evidence),
        description="What the closing file and the handling record must show for the item to pass; "
                    "an item without evidence rests on the checker's answer alone")


class Checklist(BaseModel):
    """One version of a kind's checklist (version 1: the seed, the same for every agency)."""

    model_config = ConfigDict(frozen=True)

    case_kind: CaseKind
    standard: str
    version: int
    items: tuple[CheckItem, ...]
    agency_id: str | None = None  # None: the seed
    filed_by: str | None = None
    filed_at: datetime | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items)

    @property
    def evidence(self) -> frozenset[Evidence]:
        return frozenset(e for i in self.items for e in i.evidence)


def _item(key: str, text: str, text_zh: str, *evidence: Evidence) -> CheckItem:
    return CheckItem(key=key, text=text, text_zh=text_zh, evidence=evidence)


E = Evidence
_CRIMINAL = (
    _item("meeting_record", "meetings held in time, rights, obligations and risks explained, the "
                            "conversation recorded in detail",
          "及时会见, 告知权利义务和风险, 会见笔录详实", E.meeting_held, E.rights_and_risks_explained),
    _item("file_review_notes", "the case file read in time, complete and specific notes",
          "及时阅卷, 阅卷笔录完整具体", E.file_read),
    _item("investigation", "evidence collected lawfully where the case needed it", "依法调查取证",
          E.investigation_accounted),
    _item("defence_statement", "the defence statement argues fully", "辩护意见充分", E.opinion_filed),
    _item("hearing", "hearings attended and recorded", "依法出庭", E.hearings_attended),
    _item("notice_duty", "the aided person told of progress and outcome", "履行告知义务"),
    _item("report_duty", "major matters reported to the agency", "履行报告义务", E.reports_filed),
    _item("closing_file_in_time", "the closing file complete, orderly and submitted in time",
          "结案材料齐全规范, 按时提交", E.mandate_signed, E.outcome_document),
)
_CIVIL_ADMINISTRATIVE = (
    _item("mandate", "agreement and power of attorney signed", "依法签订委托协议和授权委托书",
          E.mandate_signed),
    _item("meeting_record", "the aided person met in time, risks explained, the conversation recorded",
          "及时约见受援人, 告知风险, 谈话笔录详实", E.meeting_held, E.rights_and_risks_explained),
    _item("file_review_notes", "the case file read, notes kept", "及时阅卷, 阅卷笔录完整", E.file_read),
    _item("investigation", "evidence collected lawfully where the case needed it", "依法调查取证",
          E.investigation_accounted),
    _item("representation_statement", "the representation statement argues fully", "代理意见充分",
          E.opinion_filed),
    _item("hearing", "hearings, mediation or arbitration attended", "依法参加庭审、调解或仲裁",
          E.hearings_attended),
    _item("notice_and_report_duty", "the aided person informed and the agency reported to",
          "履行告知义务和报告义务", E.reports_filed),
    _item("closing_file_in_time", "the closing file complete, orderly and submitted in time",
          "结案材料齐全规范, 按时提交", E.outcome_document),
)
STANDARD_BY_KIND: dict[CaseKind, str] = {
    CaseKind.criminal: "SF/T 0086-2020",
    CaseKind.civil: "SF/T 0085-2020",
    CaseKind.administrative: "SF/T 0085-2020",
    CaseKind.non_litigation: "SF/T 0085-2020",
}
CHECKLIST_BY_KIND: dict[CaseKind, Checklist] = {
    kind: Checklist(case_kind=kind, standard=STANDARD_BY_KIND[kind], version=SEED_VERSION,
                    items=_CRIMINAL if kind == CaseKind.criminal else _CIVIL_ADMINISTRATIVE)
    for kind in CaseKind
}


# --- the evidence -----------------------------------------------------------------------------


class CaseEvidence(BaseModel):
    """What the check reads of a case: the closing file handed in and every entry of the handling
    record (of every handler the case had)."""

    model_config = ConfigDict(frozen=True)

    closing_file: ClosingChecklist
    entries: Sequence[WorkEntry]
    criminal_role: CriminalRole | None = None


def _mandate_signed(c: CaseEvidence) -> list[str]:
    if c.criminal_role == CriminalRole.duty_lawyer_help:
        return []  # duty-lawyer help is given without a mandate (as its deadlines say)
    reasons = []
    signed = (e for e in c.entries if isinstance(e, Mandate))
    if not any(e.agreement_signed and e.power_of_attorney_signed for e in signed):
        reasons.append("no mandate with the agreement and the power of attorney signed on the handling "
                       "record (R-ASG-9)")
    if not c.closing_file.mandate_documents:
        reasons.append("the closing file lacks the mandate documents (R-HDL-5)")
    return reasons


def _meeting_held(c: CaseEvidence) -> list[str]:
    reasons = []
    if not any(isinstance(e, Meeting) for e in c.entries):
        reasons.append("no meeting with the aided person on the handling record (R-HDL-1)")
    if not c.closing_file.meeting_records:
        reasons.append("the closing file lacks the meeting records (R-HDL-5)")
    return reasons


def _rights_and_risks_explained(c: CaseEvidence) -> list[str]:
    meetings = [e for e in c.entries if isinstance(e, Meeting)]
    if not meetings:
        return ["no meeting on the handling record explained the aided person's rights, obligations and "
                "risks (R-HDL-1)"]
    untold = [what for what, told in (("rights", any(m.rights_explained for m in meetings)),
                                      ("obligations", any(m.obligations_explained for m in meetings)),
                                      ("risks", any(m.risks_explained for m in meetings))) if not told]
    if not untold:
        return []
    return [f"no meeting on the handling record explained the {', '.join(untold)} (R-HDL-1)"]


def _file_read(c: CaseEvidence) -> list[str]:
    reasons = []
    if not any(e.kind == "file_review" for e in c.entries):
        reasons.append("no reading of the case file on the handling record (R-HDL-2)")
    if not c.closing_file.file_review_notes:
        reasons.append("the closing file lacks the notes of reading the case file (R-HDL-5)")
    return reasons


def _opinion_filed(c: CaseEvidence) -> list[str]:
    reasons = []
    if not any(isinstance(e, LegalOpinion) for e in c.entries):
        reasons.append("no defence or representation statement on the handling record (R-HDL-3)")
    if not c.closing_file.legal_opinion:
        reasons.append("the closing file lacks the defence or representation statement (R-HDL-5)")
    return reasons


def _investigation_accounted(c: CaseEvidence) -> list[str]:
    if c.closing_file.investigation_materials:
        return []
    return ["the closing file holds neither the evidence collected nor a note that none was needed "
            "(R-HDL-4, R-HDL-5)"]


def _hearings_attended(c: CaseEvidence) -> list[str]:
    """Where the case had a hearing (one is on the record, or the file says it holds hearing
    records): an attended hearing on the record, none missed, and its records in the file."""
    hearings = [e for e in c.entries if isinstance(e, Hearing)]
    if not hearings and not c.closing_file.hearing_records:
        return []  # no hearing in this case as far as the file and the record tell
    reasons = []
    if not any(h.attended for h in hearings):
        reasons.append("no hearing attended on the handling record")
    missed = sum(not h.attended for h in hearings)
    if missed:
        reasons.append(f"{missed} hearing(s) on the handling record not attended")
    if not c.closing_file.hearing_records:
        reasons.append("the closing file lacks the records of the hearings (R-HDL-5)")
    return reasons


def _reports_filed(c: CaseEvidence) -> list[str]:
    """The reports the file holds are on the record, and the reports on the record are in the file
    (a case with nothing to report has neither)."""
    on_record = any(isinstance(e, Report) for e in c.entries)
    if c.closing_file.reports_to_agency and not on_record:
        return ["the closing file says it holds reports to the agency, but none is on the handling record"]
    if on_record and not c.closing_file.reports_to_agency:
        return ["the closing file lacks the reports to the agency on the handling record (R-HDL-5)"]
    return []


def _outcome_document(c: CaseEvidence) -> list[str]:
    if c.closing_file.outcome_document:
        return []
    return ["the closing file lacks the judgment, ruling, decision or agreement that ended the case "
            "(R-HDL-5)"]


EVIDENCE: dict[Evidence, Callable[[CaseEvidence], list[str]]] = {
    Evidence.mandate_signed: _mandate_signed,
    Evidence.meeting_held: _meeting_held,
    Evidence.rights_and_risks_explained: _rights_and_risks_explained,
    Evidence.file_read: _file_read,
    Evidence.opinion_filed: _opinion_filed,
    Evidence.investigation_accounted: _investigation_accounted,
    Evidence.hearings_attended: _hearings_attended,
    Evidence.reports_filed: _reports_filed,
    Evidence.outcome_document: _outcome_document,
}


class MissingItem(BaseModel):
    """An item of the checklist that did not pass, and why (each reason)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    reasons: list[str]


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: dict[str, bool]  # each item of the checklist and whether it passed
    failed_items: list[str]
    missing: list[MissingItem]

    @property
    def passed(self) -> bool:
        return not self.failed_items


class ItemsMismatch(Invalid):
    rule = "R-CHK-1"


def verdict(checklist: Checklist, answers: dict[str, bool], evidence: CaseEvidence) -> Verdict:
    """Each item passes when the file and the record show its evidence and the checker answers
    that the file meets it; the checker answers every item of the version, no other."""
    missing_keys = [k for k in checklist.keys if k not in answers]
    unknown = sorted(set(answers) - set(checklist.keys))
    if missing_keys or unknown:
        told = [f"missing: {', '.join(missing_keys)}" if missing_keys else "",
                f"unknown: {', '.join(unknown)}" if unknown else ""]
        raise ItemsMismatch(f"items must be exactly those of version {checklist.version} of the "
                            f"{checklist.case_kind} closing checklist ({checklist.standard}); "
                            + "; ".join(t for t in told if t))
    items: dict[str, bool] = {}
    missing: list[MissingItem] = []
    for item in checklist.items:
        reasons = [r for e in item.evidence for r in EVIDENCE[e](evidence)]
        if not answers[item.key]:
            reasons.append("the checker found the file lacking on this item")
        items[item.key] = not reasons
        if reasons:
            missing.append(MissingItem(item=item.key, reasons=reasons))
    return Verdict(items=items, failed_items=[m.item for m in missing], missing=missing)


# --- an agency's versions of a kind's checklist -----------------------------------------------


class ChecklistVersionFiled(DomainEvent):
    """An agency filed a new version of a kind's closing checklist (agency data, R-CHK-1)."""

    agency_id: str
    case_kind: CaseKind
    standard: str
    version: int
    items: tuple[CheckItem, ...]
    filed_by: str
    filed_at: datetime


class NotTheAgencys(Forbidden):
    rule = "R-CHK-1"


class ChecklistRefused(Invalid):
    rule = "R-CHK-1"


class AgencyChecklist(Aggregate):
    """The versions of one agency's checklist of one kind of case; its stream is
    `closing-checklist-<agency>:<kind>`. Version 1 is the seed; the agency files 2, 3, ..."""

    stream_prefix = "closing-checklist"

    def __init__(self, id: str):
        super().__init__(id)
        self.versions: list[Checklist] = []

    @staticmethod
    def id_of(agency_id: str, case_kind: CaseKind) -> str:
        return f"{agency_id}:{case_kind}"

    def current(self, case_kind: CaseKind) -> Checklist:
        return self.versions[-1] if self.versions else CHECKLIST_BY_KIND[case_kind]

    def file_version(self, *, agency_id: str, case_kind: CaseKind, items: Sequence[CheckItem],
                     filed_by: str, at: datetime) -> Checklist:
        """A new version of the kind's checklist: distinct keys, and together the items still ask
        for every evidence the seed asks for (a version cannot let a file that lacks them pass)."""
        if self.id != self.id_of(agency_id, case_kind):
            raise NotTheAgencys(f"checklist {self.id} is not agency {agency_id}'s {case_kind} checklist")
        if not items:
            raise ChecklistRefused("items: a checklist has at least one item")
        keys = [i.key for i in items]
        if len(set(keys)) != len(keys):
            repeated = ", ".join(sorted({k for k in keys if keys.count(k) > 1}))
            raise ChecklistRefused(f"items: each key once ({repeated} repeated)")
        seed = CHECKLIST_BY_KIND[case_kind]
        dropped = sorted(seed.evidence - {e for i in items for e in i.evidence})
        if dropped:
            raise ChecklistRefused(f"items: the checklist must still ask for the evidence of "
                                   f"{seed.standard}; no item asks for {', '.join(dropped)}")
        if self.versions and self.versions[-1].items == tuple(items):
            raise Conflict(f"version {self.versions[-1].version} already has these items", rule="R-CHK-1")
        version = self.current(case_kind).version + 1
        self.record(ChecklistVersionFiled(agency_id=agency_id, case_kind=case_kind, standard=seed.standard,
                                          version=version, items=tuple(items), filed_by=filed_by,
                                          filed_at=at))
        return self.versions[-1]

    def when_ChecklistVersionFiled(self, e: ChecklistVersionFiled) -> None:
        self.versions.append(Checklist(case_kind=e.case_kind, standard=e.standard, version=e.version,
                                       items=e.items, agency_id=e.agency_id, filed_by=e.filed_by,
                                       filed_at=e.filed_at))


AgencyChecklist.handles(ChecklistVersionFiled)
