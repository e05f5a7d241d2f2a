from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from shared.cli import service_cli

service_cli(create_app, SanctionsSettings, MIGRATIONS)()
