"""The closing check's checklists (pure data): what a designated checker of the agency verifies in
a closing file against the "excellent and good" standard of the case's kind (R-CHK-1).

One checklist per standard: SF/T 0086-2020 for criminal cases, SF/T 0085-2020 for civil,
administrative and (by agencies' practice) non-litigation cases. The standards' second-level
items are not available (domain.md), so the items are seeded from the duties of R-HDL-1..5 and
R-ASG-9 under the first-level indicators each standard uses; they are data, to be replaced by
the agency's own list without touching the rules that use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.aggregate import Invalid
from shared.contracts import CaseKind


@dataclass(frozen=True)
class CheckItem:
    key: str
    text: str
    text_zh: str


@dataclass(frozen=True)
class Checklist:
    standard: str
    items: tuple[CheckItem, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items)


CRIMINAL = Checklist("SF/T 0086-2020", (
    CheckItem("meeting_record", "meetings held in time, rights, obligations and risks explained, the "
                                "conversation recorded in detail",
              "及时会见, 告知权利义务和风险, 会见笔录详实"),
    CheckItem("file_review_notes", "the case file read in time, complete and specific notes",
              "及时阅卷, 阅卷笔录完整具体"),
    CheckItem("investigation", "evidence collected lawfully where the case needed it", "依法调查取证"),
    CheckItem("defence_statement", "the defence statement argues fully", "辩护意见充分"),
    CheckItem("hearing", "hearings attended and recorded", "依法出庭"),
    CheckItem("notice_duty", "the aided person told of progress and outcome", "履行告知义务"),
    CheckItem("report_duty", "major matters reported to the agency", "履行报告义务"),
    CheckItem("closing_file_in_time", "the closing file complete, orderly and submitted in time",
              "结案材料齐全规范, 按时提交"),
))
CIVIL_ADMINISTRATIVE = Checklist("SF/T 0085-2020", (
    CheckItem("mandate", "agreement and power of attorney signed", "依法签订委托协议和授权委托书"),
    CheckItem("meeting_record", "the aided person met in time, risks explained, the conversation recorded",
              "及时约见受援人, 告知风险, 谈话笔录详实"),
    CheckItem("file_review_notes", "the case file read, notes kept", "及时阅卷, 阅卷笔录完整"),
    CheckItem("investigation", "evidence collected lawfully where the case needed it", "依法调查取证"),
    CheckItem("representation_statement", "the representation statement argues fully", "代理意见充分"),
    CheckItem("hearing", "hearings, mediation or arbitration attended", "依法参加庭审、调解或仲裁"),
    CheckItem("notice_and_report_duty", "the aided person informed and the agency reported to",
              "履行告知义务和报告义务"),
    CheckItem("closing_file_in_time", "the closing file complete, orderly and submitted in time",
              "结案材料齐全规范, 按时提交"),
))
CHECKLIST_BY_KIND: dict[CaseKind, Checklist] = {
    CaseKind.criminal: CRIMINAL,
    CaseKind.civil: CIVIL_ADMINISTRATIVE,
    CaseKind.administrative: CIVIL_ADMINISTRATIVE,
    CaseKind.non_litigation: CIVIL_ADMINISTRATIVE,
}


class ItemsMismatch(Invalid):
    rule = "R-CHK-1"


def failed_items(kind: CaseKind, items: dict[str, bool]) -> list[str]:
    """The items of the kind's checklist that did not pass; every item must be answered."""
    checklist = CHECKLIST_BY_KIND[kind]
    missing = [k for k in checklist.keys if k not in items]
    unknown = sorted(set(items) - set(checklist.keys))
    if missing or unknown:
        told = [f"missing: {', '.join(missing)}" if missing else "",
                f"unknown: {', '.join(unknown)}" if unknown else ""]
        raise ItemsMismatch(f"items must be exactly those of {checklist.standard}'s closing checklist; "
                            + "; ".join(t for t in told if t))
    return [k for k in checklist.keys if not items[k]]
