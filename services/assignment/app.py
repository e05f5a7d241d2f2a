"""Wiring of the assignment service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.assignment.api import ROUTERS
from services.assignment.consumers import CONSUMERS
from services.assignment.projections import projection
from services.assignment.settings import AssignmentSettings
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["MIGRATIONS", "SPEC", "AssignmentSettings", "create_app"]

SPEC = ServiceSpec(
    title="Fayuan assignment",
    description="The provider registry (institutions, handlers, commitments) and the assignment of cases: "
                "rotation, named handlers, the agency's choice, the monthly cap.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    tags={
        "registry": "The provider registry: institutions recruited for legal aid (how, when, by which "
                    "agency) with their quality commitment, and handlers (lawyers, grassroots legal "
                    "workers, volunteers) with theirs and their unavailability; the volunteer list "
                    "(R-PRV-1, R-PRV-2).",
        "reports": "Cases per handler and institution in a month against the cap (R-ASG-4), as JSON, CSV "
                   "or XLSX, and the fairness of the rotation against strict rotation (R-ASG-1).",
        "assignments": "Who handles each case and why: each decision with every candidate considered, the "
                       "agency's choice where the rules leave it to the agency, and the cases no one in "
                       "the pool may take.",
        "assignment rules": "Each agency's assignment rules as a versioned document: filed with the city "
                            "bureau, then published; the version in force is applied and recorded on each "
                            "decision (R-ASG-5).",
        "recruitment calls": "An agency's calls for law firms, legal services and volunteers to join its "
                             "pool: what is sought, the deadline, how to apply; the public reads them in "
                             "publication (R-PUB-3).",
    },
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or AssignmentSettings())
