from services.assignment.app import MIGRATIONS, AssignmentSettings, create_app
from shared.cli import service_cli

service_cli(create_app, AssignmentSettings, MIGRATIONS)()
