from services.evaluation.projections import METADATA
from shared.migrations import run_env

run_env(METADATA)
