"""The five services' apps, built as their own tests build them, for the checks of who may call what."""

from __future__ import annotations

import base64
import importlib
import os
from types import ModuleType

from fastapi import FastAPI

from shared.personal_data import new_master_key
from shared.settings import ServiceSettings
from shared.testing.auth import TEST_DEV_SECRET

SERVICES = {
    "intake": "IntakeSettings",
    "assignment": "AssignmentSettings",
    "evaluation": "EvaluationSettings",
    "sanctions": "SanctionsSettings",
    "publication": "PublicationSettings",
}
# Open to the kubelet, Prometheus and the developer's browser (docs/security.md).
OPERATIONAL = {"/healthz", "/readyz", "/metrics", "/docs", "/docs/openapi-3.0.json", "/openapi.json"}


def module(service: str) -> ModuleType:
    return importlib.import_module(f"services.{service}.app")


def settings_class(service: str) -> type[ServiceSettings]:
    return getattr(module(service), SERVICES[service])


def offline_app(service: str) -> FastAPI:
    """The app as built for serving, without starting it: enough to read its routes."""
    return module(service).create_app(settings_class(service)(
        environment="dev", auth_dev_secret=TEST_DEV_SECRET, **personal_data_keys()))


def personal_data_keys() -> dict[str, str]:
    """Throw-away keys of the vault (intake seals with them; the others ignore them)."""
    return {"personal_data_master_keys": new_master_key("test-1"),
            "personal_data_ref_key": base64.b64encode(os.urandom(32)).decode()}
