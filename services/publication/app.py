"""Wiring of the publication service: its routers, consumers and projection (the composition root)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.publication.api import ROUTERS
from services.publication.consumers import CONSUMERS
from services.publication.projections import projection
from services.publication.settings import PublicationSettings
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"

SPEC = ServiceSpec(
    title="Fayuan publication",
    description="Public disclosures, published deliberately: subsidies paid, cases closed per "
                "institution and person, peer-evaluation results.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    tags={
        "disclosures": "The published disclosures (R-PUB-1), per half-year or quarter and per agency, "
                       "district or city: subsidies paid, cases closed per institution and person, "
                       "peer-evaluation results, under a summary; exactly as published, corrections as "
                       "new versions. Public, no token.",
        "disclosure drafts": "Disclosures before they are published: the live draft, its submission as "
                             "of a cut-off, the bureau's approval (another person: four eyes) that "
                             "publishes it, the texts it opens with. Agency and bureau staff only.",
        "assignment rules": "The assignment rules each agency filed with the city bureau and published "
                            "(R-ASG-5, R-PUB-3). Public, no token.",
        "providers": "The results of recruitment (institutions serving legal aid) and the list of "
                     "legal-aid volunteers (R-PRV-1, R-PRV-2, R-PUB-3). Public, no token.",
        "recruitment calls": "The agencies' calls for law firms, legal services and volunteers to join "
                             "their pools: what is sought, the deadline, how to apply (R-PUB-3). Public, "
                             "no token.",
    },
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or PublicationSettings())
