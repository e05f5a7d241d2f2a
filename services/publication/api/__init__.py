"""Publication's routers, one module per concept of what the public reads; app.py mounts
`ROUTERS` in this order."""

from __future__ import annotations

from services.publication.api import assignment_rules, disclosures, drafts, providers, recruitment_calls

# drafts first: its /texts is a single segment that disclosures' /{period} would also match.
ROUTERS = [drafts.router, disclosures.router, assignment_rules.router, providers.router,
           recruitment_calls.router]
