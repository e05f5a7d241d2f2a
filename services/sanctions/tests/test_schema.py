"""The read models declared in projections.py are exactly the tables the migrations create."""

from services.sanctions.app import MIGRATIONS
from services.sanctions.projections import METADATA
from services.sanctions.settings import SanctionsSettings
from shared.testing.schema import schema_differences


async def test_the_tables_declared_in_code_are_the_migrated_ones(fresh_database, make_settings):
    name = await fresh_database("sanctions")
    settings = make_settings(SanctionsSettings, database_name=name)
    assert await schema_differences(settings, METADATA, MIGRATIONS) == []
