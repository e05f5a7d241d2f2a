"""What sanctions does with other services' events: follow up every failed peer evaluation."""

from __future__ import annotations

from services.sanctions import handlers
from shared.contracts import EvaluationFailed
from shared.uow import UnitOfWork


async def on_evaluation_failed(event: EvaluationFailed, uow: UnitOfWork) -> None:
    await handlers.open_investigation(uow, event)


CONSUMERS = {"evaluations": {EvaluationFailed: on_evaluation_failed}}
