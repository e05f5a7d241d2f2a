"""Wiring of the evaluation service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.evaluation import api
from services.evaluation.consumers import CONSUMERS
from services.evaluation.projections import projection
from services.evaluation.settings import EvaluationSettings
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

__all__ = ["MIGRATIONS", "SPEC", "EvaluationSettings", "create_app"]

MIGRATIONS = Path(__file__).parent / "migrations"


SPEC = ServiceSpec(
    title="Fayuan evaluation",
    description="Peer evaluation of closed legal-aid cases: review assignments, indicator grades, "
                "the case's grade under versioned standards and the agency's rule, avoidance, the "
                "organs' opinions, corrections, excellent-and-good rates; case subsidies: schedule, "
                "approval, payment.",
    routers=api.ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    tags={
        "cases": "Closed cases awaiting peer evaluation, and giving one to a peer reviewer of another "
                 "institution, with avoidance checked (R-EVL-4, R-EVL-6).",
        "evaluations": "Peer evaluations (同行评估): a reviewer's grade per indicator, the case's grade by "
                       "the agency's rule, and each case's quality record with the aided person's "
                       "satisfaction (R-EVL-5).",
        "experts": "The expert pool (评估专家库): reviewers registered by the bureau with licence, years of "
                   "practice, fields, district, institution, training and discipline; qualification and "
                   "avoidance are decided from it (R-EVL-4, R-EVL-6).",
        "evaluation rounds": "Evaluation rounds (评查): an agency's closed cases of a period drawn by a "
                             "recorded rule and seed, files read blind by experts allocated at random, a "
                             "fail re-read by two more, the panel's result, disputes, agreement and the "
                             "bulletin (R-EVL-6).",
        "standards": "The evaluation standards as data (SF/T 0086-2020 criminal, SF/T 0085-2020 civil and "
                     "administrative), versioned, with their indicators, second-level items and points, and "
                     "the grading rules each agency chooses (R-EVL-1, R-EVL-2).",
        "opinions": "Opinions of police, procuratorates and courts on the handler's work in a case they "
                    "notified or heard, part of the case's quality record (R-EVL-5).",
        "corrections": "Findings sent to the handler with a deadline to correct the file, the correction, "
                       "and the overdue worklist (R-EVL-7).",
        "rates": "The excellent-and-good rate per agency, institution and handler per half-year, against the "
                 "year's target; those below it flagged (R-EVL-8, R-EVL-3).",
        "subsidies": "Case subsidies (办案补贴): each case's amount, computed at the quality lead's sign-off "
                     "of its closing check by the agency's versioned schedule, then approved and paid by "
                     "its finance, and withheld or reduced after a failed evaluation (R-CHK-2, R-CHK-3, "
                     "R-EVL-7).",
    },
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or EvaluationSettings())
