"""Publication's read models: the SQLModel tables and the folds that fill them, one module per
concept of what the public reads.

- `disclosures`: evaluation results and closed cases, the rows of a half-year's disclosure;
- `assignment_rules`: the assignment rules each agency published;
- `providers`: the institutions recruited and the legal-aid volunteers;
- `recruitment_calls`: the agencies' calls for providers.

Every table here is also created by a migration (migrations/versions), and
tests/test_schema.py checks that the two agree. The rows are folded from other services'
integration events, which consumers.py routes by contract class to the `record_*` functions.

Publication records no domain events of its own yet, so `projection`, the projector app.py
hands to its ServiceSpec, folds nothing: the aggregates of the publishing workflow (drafts,
publishing acts, corrections) will be declared to it, with one `@projection.on(...)` fold per
event, in the module of their concept.
"""

from __future__ import annotations

from services.publication.projections import assignment_rules, disclosures, providers, recruitment_calls
from services.publication.projections.base import METADATA, PublicationTable
from shared.projection import Projection

projection = Projection()

__all__ = ["METADATA", "PublicationTable", "assignment_rules", "disclosures", "projection", "providers",
           "recruitment_calls"]
