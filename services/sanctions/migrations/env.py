from services.sanctions.projections import SQLModel
from shared.migrations import run_env

run_env(SQLModel.metadata)
