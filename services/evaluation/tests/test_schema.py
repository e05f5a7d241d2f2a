"""The tables evaluation declares in code (projections.py) are exactly those its migrations create."""

from services.evaluation.app import MIGRATIONS
from services.evaluation.projections import METADATA
from services.evaluation.settings import EvaluationSettings
from shared.testing.schema import schema_differences


async def test_the_tables_declared_in_code_are_the_migrated_ones(fresh_database, make_settings):
    name = await fresh_database("evaluation")
    settings = make_settings(EvaluationSettings, database_name=name)
    assert await schema_differences(settings, METADATA, MIGRATIONS) == []
