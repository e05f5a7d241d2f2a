"""Legal-aid cases (/api/v1/cases): registration, the next stage of a criminal case, the list, one
case now or as of a past moment, closure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.intake import handlers
from services.intake.adapters import VaultDep
from services.intake.domain.case import MATTERS_BY_KIND, CaseType
from services.intake.domain.people import AdverseParty, AidedPerson
from services.intake.queries import access
from services.intake.queries.cases import CaseFilter, page_of_cases, shown_case
from services.intake.queries.views import CaseView, NotifiedCaseView, view_of
from services.intake.settings import IntakeSettingsDep
from shared.aggregate import Forbidden
from shared.auth import Principal, Role, acting_as, allow
from shared.contracts import CaseFlags, CaseKind
from shared.contracts.intake import CriminalRole, CriminalStage, Matter
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

CaseId = Annotated[str, Path(description="The case's id", max_length=64)]
Ref = Annotated[str, Field(min_length=1, max_length=100)]


def _notification_names_both(value, info: ValidationInfo):
    """A notification from a court, procuratorate or police names its system and its reference."""
    if (value is None) != (info.data.get("source_system") is None):
        raise ValueError("a notification names both its source_system and its external_reference")
    return value


class RegisterCase(BaseModel):
    """登记法律援助案件: what the agency (or a notifying court, procuratorate or police) knows at
    registration. A notification names its `source_system` and `external_reference`: sending it
    again returns the case already registered for it, as does a repeated `Idempotency-Key`."""

    # Made-up people: 张三 and 李四 are placeholders, their ID numbers invented (with a right check
    # character), the company and its credit code too.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"case_kind": "criminal", "criminal_stage": "prosecution_review", "criminal_role": "defence",
         "cause": "盗窃", "district": "朝阳区", "agency_id": "chaoyang-centre",
         "aided_person": {"name": "张三", "id_number": "110105198503121234"},
         "source_system": "chaoyang-procuratorate", "external_reference": "朝检援通〔2026〕88号"},
        {"case_kind": "civil", "matter": "labour_arbitration", "cause": "追索劳动报酬",
         "district": "朝阳区", "agency_id": "chaoyang-centre",
         "flags": {"group_case": True, "head_count": 12},
         "aided_person": {"name": "李四", "id_number": "110105197806152412", "phone": "13800000000",
                          "address": "北京市朝阳区示例路1号院2号楼301室"},
         "adverse_parties": [{"name": "北京某建筑劳务有限公司", "id_number": "91110105MA00000000"}]},
    ]})

    case_kind: CaseKind
    criminal_stage: CriminalStage | None = Field(default=None,
                                                 description="Criminal cases: the stage (诉讼阶段)")
    criminal_role: CriminalRole | None = Field(default=None, description="Criminal cases: defence, "
                                               "representation of a victim or private prosecutor, "
                                               "duty-lawyer help")
    matter: Matter | None = Field(default=None,
                                  description="Civil, administrative or non-litigation cases: the matter")
    cause: str = Field(min_length=1, max_length=200, description="Cause of action (案由)")
    district: str = Field(min_length=1, max_length=50)
    agency_id: str = Field(min_length=1, max_length=64, description="The legal-aid agency that registers it")
    flags: CaseFlags = CaseFlags()
    aided_person: AidedPerson
    adverse_parties: list[AdverseParty] = Field(
        default_factory=list, max_length=100,
        description="对方当事人: kept here; assignment sees only keyed hashes, for its conflict check")
    source_system: Ref | None = Field(default=None, description="A notifying organ's system, e.g. a court's")
    external_reference: Ref | None = Field(default=None, validate_default=True,
                                           description="The notifying organ's reference for the case")
    registered_by: Ref | None = Field(default=None, description="Who registers it: the caller (the token's "
                                                                "subject); sent, it must be that")
    possible_death_penalty_or_life_imprisonment: bool = Field(
        default=False, description="Criminal cases: the charge may carry a death penalty or life "
                                   "imprisonment, so the handler needs the experience the law requires "
                                   "(R-ASG-8)")

    @field_validator("criminal_stage", "criminal_role", "possible_death_penalty_or_life_imprisonment")
    @classmethod
    def _criminal_only(cls, value, info: ValidationInfo):
        if value and info.data.get("case_kind") not in (None, CaseKind.criminal):
            raise ValueError("only a criminal case has a stage, a role or a possible death penalty")
        return value

    @field_validator("matter")
    @classmethod
    def _matter_of_kind(cls, value, info: ValidationInfo):
        kind = info.data.get("case_kind")
        if value is not None and kind is not None and value not in MATTERS_BY_KIND[kind]:
            raise ValueError(f"{value} is not a matter of a {kind} case")
        return value

    _both_or_neither = field_validator("external_reference")(_notification_names_both)


class RegisterNextStage(BaseModel):
    """R-HDL-7 一案一卷: a criminal case moving to a later stage under a new assignment is a new case
    with its own number and file; the aided person, cause, parties and flags come from the case of
    the previous stage, which must have ended."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"criminal_stage": "first_instance", "source_system": "chaoyang-court",
         "external_reference": "朝法援通〔2026〕21号"},
    ]})

    criminal_stage: CriminalStage = Field(description="The new stage: later than the previous case's")
    criminal_role: CriminalRole | None = Field(default=None,
                                               description="By default, the previous case's role")
    possible_death_penalty_or_life_imprisonment: bool | None = Field(
        default=None, description="The charge may now carry a death penalty or life imprisonment (R-ASG-8); "
                                  "by default, as the previous case said")
    source_system: Ref | None = Field(default=None,
                                      description="The notifying organ's system, for this stage")
    external_reference: Ref | None = Field(default=None, validate_default=True,
                                           description="The notifying organ's reference for this stage")
    registered_by: Ref | None = Field(default=None, description="Who registers it: the caller (the token's "
                                                                "subject); sent, it must be that")

    _both_or_neither = field_validator("external_reference")(_notification_names_both)


class CloseCase(BaseModel):
    """结案: the handler reports the outcome and the day the case ended."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "一审判决：以盗窃罪判处有期徒刑八个月，并处罚金人民币二千元；辩护人关于自首、"
                    "退赃退赔的意见被采纳",
         "ended_on": "2026-09-15"},
    ]})

    outcome: str = Field(min_length=1, max_length=500)
    ended_on: date
    closed_by: Ref | None = Field(default=None, description="Who closes it: the caller (the token's "
                                                            "subject); sent, it must be that")


class NotYourNotification(Forbidden):
    """Who the caller is, not a rule of the case: a notifying organ notifies only as itself."""


class NotYourAgency(Forbidden):
    """Who the caller is, not a rule of the case: an agency registers its own cases only."""


def _json(view: CaseView | NotifiedCaseView, status_code: int, case_id: str) -> Response:
    # Registration is the hot path: the view is built by us and typed, so FastAPI's second
    # validation and serialisation of it (response_model) is skipped; the schema still documents it.
    return Response(view.model_dump_json(), status_code=status_code, media_type="application/json",
                    headers={"Location": f"{router.prefix}/{case_id}"})


@router.post("", summary="Register a legal-aid case (登记案件)",
             status_code=status.HTTP_201_CREATED, response_model=CaseView | NotifiedCaseView,
             responses={200: {"model": CaseView | NotifiedCaseView,
                              "description": "Registered before: the same notification or Idempotency-Key; "
                                             "nothing new was created"},
                        403: {"description": "A notifying organ named a source_system other than its own, "
                                             "staff another agency, or registered_by another person"}})
async def register_case(
    *, body: RegisterCase, request: Request, uow: UowFactoryDep, settings: IntakeSettingsDep, vault: VaultDep,
    principal: Annotated[Principal, allow(Role.agency_staff, Role.judicial_organ)],
    idempotency_key: Annotated[str | None, Header(max_length=200, description="A client's key for this "
                                                  "registration: sending it again returns the same "
                                                  "case")] = None,
) -> Response:
    """Register a legal-aid case (agency staff, or a court, procuratorate or police notifying a
    case that needs a defender); assignment then picks its handler. Idempotent per source system
    and external reference, and per Idempotency-Key: a retry answers 200 with the case already
    registered. A notifying organ notifies as itself: its `source_system` is its own institution
    id, and it is shown the case's status and handler only. The aided person's data is sealed
    before anything is recorded."""
    organ = access.organ_scope(principal)
    if organ is not None and body.source_system != organ:
        raise NotYourNotification("source_system: a notifying organ notifies cases as its own institution "
                                  "(the institution_id of its token), with its external_reference")
    if not access.scope(principal).admits(body.agency_id, body.district):
        raise NotYourAgency("agency_id: an agency registers its own cases (the agency_id of its token); a "
                            "district's bureau those of its district")
    registered_by = acting_as(principal, "registered_by", body.registered_by)
    flags = body.flags
    if body.possible_death_penalty_or_life_imprisonment:
        flags = flags.model_copy(update={"possible_death_penalty_or_life_imprisonment": True})
    case, new = await handlers.register_case(
        uow, case_type=CaseType(case_kind=body.case_kind, criminal_stage=body.criminal_stage,
                                criminal_role=body.criminal_role, matter=body.matter),
        cause=body.cause, district=body.district, agency_id=body.agency_id, flags=flags,
        aided_person=body.aided_person, adverse_parties=body.adverse_parties,
        source_system=body.source_system, external_reference=body.external_reference,
        registered_by=registered_by, idempotency_key=idempotency_key,
        hash_key=settings.adverse_party_hash_key.get_secret_value(), vault=vault)
    view = view_of(case)
    if not new:  # an Idempotency-Key of someone else's registration must not show their case
        access.check(view, principal)
    return _json(access.shown(view, principal), status.HTTP_201_CREATED if new else status.HTTP_200_OK,
                 case.id)


@router.post("/{case_id}/next-stage", summary="Register the next stage of a criminal case (一案一卷)",
             status_code=status.HTTP_201_CREATED, response_model=CaseView,
             responses={200: {"model": CaseView,
                              "description": "The next stage was registered before: its case"}})
async def register_next_stage(*, case_id: CaseId, body: RegisterNextStage, uow: UowFactoryDep,
                              vault: VaultDep,
                              principal: Annotated[Principal, allow(Role.agency_staff)]) -> Response:
    """Register the next stage of an ended criminal case as a new case (R-HDL-7, one case one file):
    a new case number and file, linked both ways (`previous_case_id`, `next_case_id`); assignment
    then picks its handler. Asked again, it answers 200 with the case already registered."""
    case, new = await handlers.register_next_stage(
        uow, case_id, stage=body.criminal_stage, criminal_role=body.criminal_role,
        possible_death_penalty_or_life_imprisonment=body.possible_death_penalty_or_life_imprisonment,
        source_system=body.source_system, external_reference=body.external_reference,
        registered_by=acting_as(principal, "registered_by", body.registered_by), vault=vault,
        within=access.scope(principal))
    return _json(view_of(case), status.HTTP_201_CREATED if new else status.HTTP_200_OK, case.id)


@router.get("", summary="List cases", response_model=Page[CaseView | NotifiedCaseView])
async def list_cases(
    *, engine: EngineDep, settings: IntakeSettingsDep, clock: ClockDep,
    principal: Annotated[Principal, allow(*access.NOTIFIED_READERS)],
    status_: Annotated[str | None, Query(alias="status", max_length=20,
                                         description="registered, assigned, closed, terminated or "
                                                     "archived")] = None,
    case_kind: CaseKind | None = None,
    district: Annotated[str | None, Query(max_length=50)] = None,
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
    institution_id: Annotated[str | None, Query(max_length=64)] = None,
    handler_id: Annotated[str | None, Query(max_length=64)] = None,
    source_system: Annotated[str | None, Query(max_length=100,
                                               description="A notifying organ's system")] = None,
    external_reference: Annotated[str | None, Query(max_length=100, description="The notifying organ's own "
                                                    "reference: with source_system, its case and "
                                                    "handler")] = None,
    registered_from: Annotated[datetime | None, Query(description="Registered at or after")] = None,
    registered_before: Annotated[datetime | None, Query(description="Registered before")] = None,
    overdue: Annotated[bool | None,
                       Query(description="Only cases with a deadline missed and still open")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[CaseView | NotifiedCaseView]:
    """List cases, newest first, filtered by status, kind, district, agency, institution,
    handler, registration dates, and whether a deadline is overdue. A notifying court,
    procuratorate or police finds its case, and who was assigned to it (R-ASG-7), by its own
    `source_system` and `external_reference`. A handler's list holds only their own cases, an
    organ's only the cases it notified (whatever the query says)."""
    filters = CaseFilter(status=status_, case_kind=case_kind, district=district, agency_id=agency_id,
                         institution_id=institution_id, handler_id=handler_id, source_system=source_system,
                         external_reference=external_reference, registered_from=registered_from,
                         registered_before=registered_before)
    return await page_of_cases(engine, filters, principal, offset=offset, limit=limit, overdue=overdue,
                               policy=settings.deadline_policy(), now=clock())


@router.get("/{case_id}", summary="One case, now or as of a moment",
            response_model=CaseView | NotifiedCaseView)
async def get_case(
    *, case_id: CaseId, engine: EngineDep, principal: Annotated[Principal, allow(*access.NOTIFIED_READERS)],
    as_of: Annotated[datetime | None, Query(description="The case as it stood at this moment (its history "
                                                        "folded up to then)")] = None,
) -> CaseView | NotifiedCaseView:
    """The case's status, handler and milestones; with `as_of`, as they were at that moment. A
    handler sees their own cases, a notifying organ the status and handler of a case it notified
    (R-ASG-7); any other case is not found for them."""
    return await shown_case(engine, case_id, principal, as_of=as_of)


@router.post("/{case_id}/closure", summary="Close a case (结案)", response_model=CaseView)
async def close_case(*, case_id: CaseId, body: CloseCase, uow: UowFactoryDep,
                     principal: Annotated[Principal, allow(Role.case_handler)]) -> CaseView:
    """The case's handler closes their assigned case with its outcome and end date; evaluation
    then sees it. The closing file is due within 30 days of the end (R-HDL-6)."""
    case = await handlers.close_case(uow, case_id, outcome=body.outcome, ended_on=body.ended_on,
                                     closed_by=acting_as(principal, "closed_by", body.closed_by),
                                     only_handler=access.handler_scope(principal))
    return view_of(case)


