"""The tables projections.py declares are the tables the migrations create."""

from services.assignment.app import MIGRATIONS
from services.assignment.projections import METADATA
from services.assignment.settings import AssignmentSettings
from shared.testing.schema import schema_differences


async def test_the_tables_declared_in_code_are_the_migrated_ones(fresh_database, make_settings):
    name = await fresh_database("assignment")
    settings = make_settings(AssignmentSettings, database_name=name)
    assert await schema_differences(settings, METADATA, MIGRATIONS) == []
