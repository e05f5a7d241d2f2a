"""The disclosures before they are published (/api/v1/disclosures/drafts, /api/v1/disclosures/texts):
staff only, never the public (R-PUB-1, docs/publication.md "Publishing").

The live draft of a scope and period, built from what has been received so far; submitting it as of
a cut-off (an agency's or the bureau's staff); the bureau returning or approving it, approval being
the publishing act, by another person than the submitter. The texts the disclosures of a scope open
with are the bureau's to edit. An agency role acts for its own agency's disclosure only, a district
bureau for its district's and its agencies', the city bureau for every scope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from services.publication import handlers
from services.publication.adapters import disclosure_response
from services.publication.api.disclosures import FORMS, FormatParam, TableParam
from services.publication.domain import PERIOD_PATTERN, Disclosure, Period, Scope, Texts, scope_of
from services.publication.queries import disclosures as queries
from services.publication.settings import PublicationSettingsDep
from shared.aggregate import Forbidden
from shared.auth import Principal, Role, agency_scope, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/disclosures", tags=["disclosure drafts"])

AGENCY = (Role.agency_staff, Role.closing_checker, Role.quality_lead, Role.finance)
BUREAU = (Role.bureau_investigator,)
Staff = Annotated[Principal, allow(*BUREAU, *AGENCY)]
Bureau = Annotated[Principal, allow(*BUREAU)]

Level = Literal["city", "district", "agency"]
PeriodParam = Annotated[str, Path(
    pattern=PERIOD_PATTERN, examples=["2026-H1"],
    description="A half-year (2026-H1: January to June) or a quarter (2026-Q3: July to September)")]
LevelParam = Annotated[Level | None, Query(
    description="Whose disclosure: the city's, a district's, an agency's; the caller's own if left out (an "
                "agency role's agency, a district bureau's district, the city bureau's city)")]
IdParam = Annotated[str | None, Query(max_length=64, description="The district's name or the agency's id")]


def _text_only(value: object) -> object:
    # A number would otherwise pass as seconds since 1970: a moment is written as ISO 8601.
    if not isinstance(value, str | datetime):
        raise ValueError("a moment is an ISO 8601 date and time with its offset, "
                         "e.g. 2026-07-15T00:00:00+08:00")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class ScopeRef(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"level": "agency", "id": "chaoyang-centre"}]})

    level: Level = Field(description="Whose disclosure: the city's, a district's, an agency's")
    id: str | None = Field(default=None, max_length=64,
                           description="The district's name (朝阳区) or the agency's id; none for the city")


class Submit(ScopeRef):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"level": "city", "id": None, "cut_off": "2026-07-15T00:00:00+08:00"}]})

    cut_off: Moment | None = Field(
        default=None, description="Count what was received up to this moment (after the period's end, not "
                                  "in the future); now, if left out")


class Return(ScopeRef):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"level": "city", "id": None, "reason": "海淀区中心的补贴发放尚未全部录入，请补充后重新提交。"}]})

    reason: str = Field(min_length=2, max_length=2000, description="Why the bureau returns it")


class EditTexts(ScopeRef):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"level": "district", "id": "朝阳区", "legal_basis": "依据《中华人民共和国法律援助法》第五十八条……",
         "procedure": "案件结案后，承办人员提交结案归档材料……"}]})

    legal_basis: str = Field(min_length=2, max_length=8000, description="The legal basis, plain paragraphs")
    procedure: str = Field(min_length=2, max_length=8000, description="The procedure, plain paragraphs")


async def _scope(principal: Principal, engine: EngineDep, level: Level | None, id: str | None) -> Scope:
    """The scope named (the caller's own if none is), if the caller acts for it: an agency role for its
    agency; a district bureau for its district and the agencies whose cases are of it; the city
    bureau for any."""
    within = agency_scope(principal)
    if level is None:
        level, id = (("agency", within.agency_id) if within.agency_id is not None
                     else ("district", within.district) if within.district is not None else ("city", None))
    scope = scope_of(level, id)
    if within.unlimited:
        return scope
    if within.agency_id is not None and (scope.level, scope.id) == ("agency", within.agency_id):
        return scope
    if within.district is not None and (
            (scope.level, scope.id) == ("district", within.district)
            or (scope.level == "agency" and scope.id is not None
                and await queries.agency_district(engine, scope.id) == within.district)):
        return scope
    raise Forbidden(f"level: you do not act for the disclosure of {scope.level} {scope.id or ''}".strip(),
                    rule="R-PUB-1")


@router.get("/drafts/{period}", response_model=Disclosure, summary="The live draft of a disclosure",
            responses=FORMS)
async def get_draft(*, period: PeriodParam, level: LevelParam = None, id: IdParam = None,
                    principal: Staff, engine: EngineDep, settings: PublicationSettingsDep,
                    format_: FormatParam = "json", table: TableParam = "evaluation_results",
                    ) -> Disclosure | Response:
    """What the scope's disclosure of the period would say now (status `draft`, no number); once a
    version is published, `corrects` lists what a correction would change. In any form the public gets."""
    scope = await _scope(principal, engine, level, id)
    period_ = Period.parse(period)
    draft = await queries.draft(engine, scope, period_, target=settings.target_for(period_.year))
    return draft if format_ == "json" else disclosure_response(draft, format_, table=table)


@router.post("/drafts/{period}/submission", status_code=status.HTTP_201_CREATED, response_model=Disclosure,
             summary="Submit a disclosure for the bureau's approval")
async def submit(*, period: PeriodParam, body: Submit, principal: Staff, engine: EngineDep,
                 uow: UowFactoryDep, clock: ClockDep, settings: PublicationSettingsDep) -> Disclosure:
    """Freeze what will be published: the facts received up to the cut-off, the scope's texts and the
    year's target. The document as the bureau will approve it."""
    scope = await _scope(principal, engine, body.level, body.id)
    period_ = Period.parse(period)
    return await handlers.submit(uow, scope=scope, period=period_, cut_off=body.cut_off,
                                 target=settings.target_for(period_.year), by=principal.sub, at=clock())


@router.post("/drafts/{period}/return", status_code=status.HTTP_204_NO_CONTENT,
             summary="Return a submitted disclosure unpublished")
async def return_submission(*, period: PeriodParam, body: Return, principal: Bureau, engine: EngineDep,
                            uow: UowFactoryDep, clock: ClockDep) -> None:
    scope = await _scope(principal, engine, body.level, body.id)
    await handlers.return_submission(uow, scope=scope, period=Period.parse(period), reason=body.reason,
                                     by=principal.sub, at=clock())


@router.post("/drafts/{period}/approval", status_code=status.HTTP_201_CREATED, response_model=Disclosure,
             summary="Approve a submitted disclosure: publish it")
async def approve(*, period: PeriodParam, body: ScopeRef, principal: Bureau, engine: EngineDep,
                  uow: UowFactoryDep, clock: ClockDep) -> Disclosure:
    """The bureau, another person than the submitter (four eyes), publishes the submission: numbered,
    immutable, as of its cut-off. A later version is a correction stating what it changed."""
    scope = await _scope(principal, engine, body.level, body.id)
    return await handlers.approve(uow, scope=scope, period=Period.parse(period), by=principal.sub, at=clock())


@router.get("/texts", response_model=Texts, summary="The texts a scope's disclosures open with")
async def get_texts(*, level: LevelParam = None, id: IdParam = None, principal: Staff,
                    engine: EngineDep) -> Texts:
    scope = await _scope(principal, engine, level, id)
    return await queries.texts(engine, scope)


@router.put("/texts", response_model=Texts, summary="Edit the texts a scope's disclosures open with")
async def edit_texts(*, body: EditTexts, principal: Bureau, engine: EngineDep, uow: UowFactoryDep,
                     clock: ClockDep) -> Texts:
    """The legal basis and the procedure, for the disclosures submitted from now on."""
    scope = await _scope(principal, engine, body.level, body.id)
    return await handlers.edit_texts(uow, scope=scope, legal_basis=body.legal_basis, procedure=body.procedure,
                                     by=principal.sub, at=clock())
