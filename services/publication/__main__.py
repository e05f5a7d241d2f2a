from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from shared.cli import service_cli

service_cli(create_app, PublicationSettings, MIGRATIONS)()
