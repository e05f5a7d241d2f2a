from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from shared.cli import service_cli

service_cli(create_app, EvaluationSettings, MIGRATIONS)()
