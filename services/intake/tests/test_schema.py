"""The tables intake's code declares (projections.py) are the ones its migrations create."""

from services.intake.app import MIGRATIONS
from services.intake.projections import METADATA
from services.intake.settings import IntakeSettings
from shared.testing.schema import schema_differences


async def test_the_tables_declared_in_code_are_the_migrated_ones(fresh_database, make_settings):
    name = await fresh_database("intake")
    settings = make_settings(IntakeSettings, database_name=name)
    assert await schema_differences(settings, METADATA, MIGRATIONS) == []
