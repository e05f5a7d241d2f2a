"""The rotation as one decision reads it: from its read model, at its stream's version, in one
round trip, whatever the agency's history (projections.py keeps it in the append's transaction).
A decision never folds the rotation's stream, which takes one event per case."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain import Rotation
from shared.clock import local_month
from shared.store import driver, from_jsonb

# One statement, so every part is of one snapshot of the database: the version and the counts of
# the same committed appends. Every registration sets off a decision that reads it: straight to
# asyncpg ($1 the agency, $2 the month, $3 the cases).
_PART = """
SELECT coalesce(s.version, 0) AS version, coalesce(s.turns, 0) AS turns,
       (SELECT coalesce(jsonb_object_agg(l.handler_id, l.last_turn), '{}'::jsonb)
          FROM rotation_last_turns AS l WHERE l.agency_id = $1) AS last_turn,
       (SELECT coalesce(jsonb_object_agg(m.handler_id, m.case_count), '{}'::jsonb)
          FROM rotation_month_counts AS m WHERE m.agency_id = $1 AND m.month = $2) AS counts,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(t.case_id, t.handler_id)), '[]'::jsonb)
          FROM rotation_turns AS t WHERE t.agency_id = $1 AND t.case_id = ANY($3::text[])) AS case_turns
FROM (SELECT 1) AS one LEFT JOIN rotation_state AS s ON s.agency_id = $1
"""


async def rotation(conn: AsyncConnection, agency_id: str, *, at: datetime,
                   case_ids: Iterable[str] = ()) -> Rotation:
    """The agency's rotation for a decision taken `at` on these cases: every handler's last
    turn, the counts of `at`'s month (Beijing's), the cases' own turns, at the stream's version
    (0 and empty when the agency never took a turn)."""
    month = local_month(at)
    row = await (await driver(conn)).fetchrow(_PART, agency_id, month, list(case_ids))
    last_turn = from_jsonb(row["last_turn"])
    counts = from_jsonb(row["counts"])
    case_turns = from_jsonb(row["case_turns"])
    assert isinstance(last_turn, dict) and isinstance(counts, dict) and isinstance(case_turns, list)
    return Rotation.part(agency_id, version=row["version"], turns=row["turns"],
                         last_turn=last_turn, month=month, counts=counts,
                         case_turns=[(c, h) for c, h in case_turns])
