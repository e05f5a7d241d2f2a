"""The tables publication's code declares (projections/) are the ones its migrations create."""

from services.publication.app import MIGRATIONS
from services.publication.projections import METADATA
from services.publication.settings import PublicationSettings
from shared.testing.schema import schema_differences


async def test_the_tables_declared_in_code_are_the_migrated_ones(fresh_database, make_settings):
    name = await fresh_database("publication")
    settings = make_settings(PublicationSettings, database_name=name)
    assert await schema_differences(settings, METADATA, MIGRATIONS) == []
