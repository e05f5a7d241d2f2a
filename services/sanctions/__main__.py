from services.sanctions.app import MIGRATIONS, create_app
from services.sanctions.settings import SanctionsSettings
from shared.cli import service_cli

service_cli(create_app, SanctionsSettings, MIGRATIONS)()
