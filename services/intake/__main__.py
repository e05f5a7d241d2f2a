from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from shared.cli import service_cli

service_cli(create_app, IntakeSettings, MIGRATIONS)()
