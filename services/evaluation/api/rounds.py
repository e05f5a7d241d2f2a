"""Evaluation rounds over REST (R-EVL-4, R-EVL-6): an agency's round is opened and its cases drawn
(/api/v1/evaluation-rounds), its files read blind by the experts given them
(/api/v1/review-files), a result disputed, the round closed (its results final), and its
agreement and bulletin read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.evaluation import handlers, queries
from services.evaluation.domain.round import DrawRule, Readers
from services.evaluation.queries import (
    AgreementView,
    BulletinView,
    ReviewFileView,
    RoundFileView,
    RoundView,
)
from services.evaluation.settings import EvaluationSettingsDep
from shared import clock
from shared.aggregate import NotFound
from shared.auth import Principal, Role, allow
from shared.contracts import Grade
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/evaluation-rounds", tags=["evaluation rounds"])
files_router = APIRouter(prefix="/api/v1/review-files", tags=["evaluation rounds"])

RoundId = Annotated[str, Path(description="The round's id", min_length=1, max_length=64)]
FileId = Annotated[str, Path(description="The file's id", min_length=1, max_length=64)]
IndicatorKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
VetoItem = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Organiser = Annotated[Principal, allow(Role.agency_staff, Role.quality_lead, Role.bureau_investigator)]
Reader = Annotated[
    Principal, allow(Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)
]


class OpenRound(BaseModel):
    """开展评查: a round of the agency's closed cases of a period, drawn by a recorded rule and seed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "agency_id": "chaoyang-legal-aid-centre",
                    "period_from": "2026-01-01",
                    "period_to": "2026-06-30",
                    "draw_rule": "sample",
                    "seed": "2026H1-chaoyang",
                    "readers": "one-then-two",
                },
            ]
        },
    )

    agency_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The agency (an agency's roles: their own, which may be left out)",
    )
    period_from: date
    period_to: date
    opens_on: date | None = Field(
        default=None,
        description="The day the round opens (today if left out): experts are qualified as of it",
    )
    draw_rule: DrawRule = Field(default=DrawRule.sample, description="all, or sample (domain/round.py)")
    seed: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The draw's seed (a random one is chosen and recorded if left out)",
    )
    readers: Readers | None = Field(
        default=None, description="one-then-two or two-from-start (the setting if left out)"
    )


class Reading(BaseModel):
    """A reader's grade for each indicator of the file's standard version, graded by the round's rule
    as a single reviewer's evaluation is (points under a points rule, veto items not done, a late
    closing file)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "indicators": {
                        "meeting": "fail",
                        "file_review": "good",
                        "investigation_work": "good",
                        "legal_opinion": "excellent",
                        "hearing": "good",
                        "notice_duty": "pass",
                        "report_duty": "good",
                        "closing_file": "good",
                    },
                    "findings": "未在规定时限内会见受援人，会见笔录缺失。",
                },
            ]
        },
    )

    indicators: dict[IndicatorKey, Grade] = Field(min_length=1, max_length=20)
    findings: str = Field(min_length=1, max_length=5000)
    points: dict[IndicatorKey, Points] | None = Field(
        default=None,
        max_length=20,
        description="Indicator key -> points (0 to its max_points): required when the round's rule grades "
        "by points (the file's `points_required`)",
    )
    not_done: list[VetoItem] = Field(
        default_factory=list,
        max_length=30,
        description="Veto items (the file's `veto_items`) whose work was not done at all: each fails its "
        "indicator and the reading",
    )
    closing_file_late: bool = Field(
        default=False,
        description="The closing file was archived late (a points-80-late-fails round fails the reading "
        "outright; intake's report of it counts as well)",
    )


class Dispute(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "承办律师提交了会见笔录补正材料，申请复核评查结果。"}]},
    )

    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "",
    summary="Open an evaluation round and draw its cases",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundView,
)
async def open_round(
    *,
    body: OpenRound,
    principal: Organiser,
    uow: UowFactoryDep,
    engine: EngineDep,
    settings: EvaluationSettingsDep,
    response: Response,
) -> RoundView:
    """The agency (or the bureau, for an agency of its district) opens a round: its cases are drawn
    by the rule and seed recorded on it, and each drawn file is given, blind and at random, to
    qualified experts who need not avoid it (R-EVL-4, R-EVL-6)."""
    within = queries.scope(principal)
    agency_id = body.agency_id or within.agency_id
    if agency_id is None:
        raise NotFound("agency_id: name the agency whose round this is")
    async with engine.connect() as conn:
        if not await queries.agency_in_scope(conn, within, agency_id):
            raise NotFound(f"no agency {agency_id} within your scope")
    view = await handlers.open_round(
        uow,
        agency_id=agency_id,
        period_from=body.period_from,
        period_to=body.period_to,
        opens_on=body.opens_on or clock.local_date(clock.now()),
        draw_rule=body.draw_rule,
        seed=body.seed,
        readers=body.readers or settings.round_readers,
        default_rule=settings.grading_rule,
        policy=settings.round_policy,
        by=principal.sub,
    )
    response.headers["Location"] = f"{router.prefix}/{view.round_id}"
    return view


@router.get("", summary="Evaluation rounds", response_model=Page[RoundView])
async def list_rounds(
    *, principal: Reader, engine: EngineDep, offset: Offset = 0, limit: Limit = 50
) -> Page[RoundView]:
    """Rounds, newest first: an agency's roles their own agency's, a district's bureau those of its
    district's agencies."""
    return await queries.rounds_list(engine, asking=principal, offset=offset, limit=limit)


@router.get("/{round_id}", summary="One evaluation round", response_model=RoundView)
async def get_round(*, round_id: RoundId, principal: Reader, engine: EngineDep) -> RoundView:
    return await queries.round_view(engine, round_id, asking=principal)


@router.get("/{round_id}/files", summary="A round's files", response_model=Page[RoundFileView])
async def round_files(
    *, round_id: RoundId, principal: Reader, engine: EngineDep, offset: Offset = 0, limit: Limit = 50
) -> Page[RoundFileView]:
    """The drawn files in draw order, with their readers and the panel's latest result."""
    return await queries.round_files_list(engine, round_id, asking=principal, offset=offset, limit=limit)


@router.post(
    "/{round_id}/closure", summary="Close a round: its results become final", response_model=RoundView
)
async def close_round(*, round_id: RoundId, principal: Organiser, uow: UowFactoryDep) -> RoundView:
    """Each file's latest result becomes its evaluation, told to the others once (a fail to
    sanctions); a file still being read keeps the round open (409)."""
    return await handlers.close_round(
        uow, round_id=round_id, by=principal.sub, within=queries.scope(principal)
    )


@router.get("/{round_id}/agreement", summary="A round's inter-rater agreement", response_model=AgreementView)
async def agreement(*, round_id: RoundId, principal: Reader, engine: EngineDep) -> AgreementView:
    """The share of re-read fails the panel confirmed, and Fleiss' kappa over files read by three."""
    return await queries.agreement(engine, round_id, asking=principal)


@router.get("/{round_id}/bulletin", summary="A round's bulletin", response_model=BulletinView)
async def bulletin(*, round_id: RoundId, principal: Reader, engine: EngineDep) -> BulletinView:
    """通报: the round's excellent cases and its most common problems by indicator."""
    return await queries.bulletin(engine, round_id, asking=principal)


@router.get(
    "/{round_id}/bulletin.csv",
    summary="A round's bulletin as CSV",
    responses={200: {"content": {"text/csv": {}}}},
)
async def bulletin_csv(*, round_id: RoundId, principal: Reader, engine: EngineDep) -> Response:
    """The bulletin for a spreadsheet: CSV, UTF-8 with a BOM."""
    view = await queries.bulletin(engine, round_id, asking=principal)
    return Response(
        queries.bulletin_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bulletin-{round_id}.csv"'},
    )


@files_router.get("", summary="The files given to you (blind)", response_model=Page[ReviewFileView])
async def my_files(
    *,
    principal: Annotated[Principal, allow(Role.peer_reviewer)],
    engine: EngineDep,
    unread: bool = False,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ReviewFileView]:
    """The files of rounds given to the calling expert: nothing of the handler or their institution."""
    return await queries.review_files(engine, asking=principal, unread=unread, offset=offset, limit=limit)


@files_router.post(
    "/{file_id}/readings",
    summary="Grade a file given to you",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewFileView,
)
async def read_file(
    *,
    file_id: FileId,
    body: Reading,
    principal: Annotated[Principal, allow(Role.peer_reviewer)],
    uow: UowFactoryDep,
    settings: EvaluationSettingsDep,
) -> ReviewFileView:
    """The expert grades each indicator under the file's standard version and the round's grading rule
    (points per indicator under a points rule: 422 naming `points` without them; veto items not done;
    a late closing file); a fail brings two more readers, and the panel's result follows its rule
    (docs/evaluation.md). A file not given to you is a 404."""
    return await handlers.read_file(
        uow,
        file_id=file_id,
        reviewer_id=principal.reviewer_id,
        indicators=body.indicators,
        findings=body.findings,
        policy=settings.round_policy,
        points=body.points,
        not_done=body.not_done,
        late_file=body.closing_file_late,
    )


@files_router.post(
    "/{file_id}/disputes",
    summary="Dispute a file's result",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundFileView,
)
async def dispute(
    *,
    file_id: FileId,
    body: Dispute,
    principal: Organiser,
    uow: UowFactoryDep,
    settings: EvaluationSettingsDep,
) -> RoundFileView:
    """Three experts who have not read the file re-review it; their result is a new result (the
    first stays recorded). Once per file, before the round closes."""
    return await handlers.dispute_result(
        uow,
        file_id=file_id,
        reason=body.reason,
        by=principal.sub,
        policy=settings.round_policy,
        within=queries.scope(principal),
    )
