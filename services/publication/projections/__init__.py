"""Publication's read models: the SQLModel tables and the folds that fill them, one module per
concept of what the public reads.

- `disclosures`: closed cases, final evaluation results and subsidies paid (the rows of a period's
  draft, folded from publication's own fact events), and the published disclosures, frozen;
- `assignment_rules`: the assignment rules each agency published;
- `providers`: the institutions recruited and the legal-aid volunteers;
- `recruitment_calls`: the agencies' calls for providers.

Every table here is also created by a migration (migrations/versions), and
tests/test_schema.py checks that the two agree. Assignment rules and providers are folded
from other services' integration events, which consumers.py routes by contract class to the
`record_*` functions; a disclosure's facts are first recorded as publication's own events
(handlers.py) and folded by `projection` (base.py), the projector app.py hands to its ServiceSpec.
"""

from __future__ import annotations

from services.publication.projections import assignment_rules, disclosures, providers, recruitment_calls
from services.publication.projections.base import METADATA, PublicationTable, projection

REBUILT_TABLES = [disclosures.closed_cases, disclosures.evaluation_results, disclosures.subsidy_payments]
"""What `python -m services.publication rebuild` empties and fills again: the tables folded from
publication's own store. The others are folded from other services' events (consumers.py) or
written by the publishing itself (published disclosures): a rebuild leaves them alone."""

__all__ = ["METADATA", "REBUILT_TABLES", "PublicationTable", "assignment_rules", "disclosures", "projection",
           "providers",
           "recruitment_calls"]
