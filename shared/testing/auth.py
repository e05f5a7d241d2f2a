"""Tokens and keys for tests: an identity provider in a few lines. Keys are generated per test
with cryptography; tokens are minted with shared.auth.mint_token, as the dev CLI does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter, FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.auth import Role, mint_token
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

ISSUER = "https://id.test.legalaid.example/"
AUDIENCE = "fayuan-test"

# The dev secret every service under test accepts (make_settings sets environment=dev with it), so
# tests mint tokens the way `make token` does on a dev stack. Never a production secret.
TEST_DEV_SECRET = "fayuan-tests-only-dev-secret-0123456789abcdef"  # noqa: S105 - a test fixture value

# The roles of the default caller of tests that are not about authorisation: the agency's side
# (staff, checker, quality lead), the bureau and the auditor. None of them is scoped to a handler,
# reviewer or notifying organ, so a test acting as a handler or reviewer says so with as_role().
STAFF_ROLES = (Role.agency_staff, Role.closing_checker, Role.quality_lead, Role.bureau_investigator, Role.auditor)


@dataclass(frozen=True)
class KeyPair:
    """A signing key of the test identity provider."""

    private_pem: bytes
    public_pem: str
    algorithm: str
    kid: str

    def jwk(self) -> dict:
        public = serialization.load_pem_public_key(self.public_pem.encode())
        to_jwk = RSAAlgorithm.to_jwk if self.algorithm == "RS256" else ECAlgorithm.to_jwk
        return {**to_jwk(public, as_dict=True), "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _pair(private, algorithm: str, kid: str) -> KeyPair:
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return KeyPair(private_pem, public_pem, algorithm, kid)


def rsa_key(kid: str = "rsa-1") -> KeyPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", kid)


def ec_key(kid: str = "ec-1") -> KeyPair:
    return _pair(ec.generate_private_key(ec.SECP256R1()), "ES256", kid)


def write_jwks(path: Path, *keys: KeyPair) -> Path:
    path.write_text(json.dumps({"keys": [k.jwk() for k in keys]}))
    return path


def auth_settings(*, public_keys: Sequence[KeyPair] = (), jwks_file: Path | None = None, **overrides: object) -> dict:
    """Overrides for make_settings / ServiceSettings: the test issuer, audience and keys."""
    values: dict[str, object] = {"auth_issuer": ISSUER, "auth_audience": AUDIENCE, "environment": "test",
                                 "relay_enabled": False, "consumers_enabled": False}
    if public_keys:
        values["auth_public_keys"] = "".join(k.public_pem for k in public_keys)
    if jwks_file is not None:
        values["auth_jwks_file"] = jwks_file
    values.update(overrides)
    return values


def token(settings: ServiceSettings, key: KeyPair | None, *roles: Role, use_kid: bool = True, **claims) -> str:
    """A token for `settings`, signed with `key` (or the dev secret when None)."""
    scopes = {k: claims.pop(k) for k in ("agency_id", "handler_id", "institution_id", "reviewer_id") if k in claims}
    return mint_token(settings, list(roles) or [Role.public], private_key_pem=key.private_pem if key else None,
                      kid=key.kid if key and use_kid else None, scopes=scopes, **claims)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def app_with_auth(settings: ServiceSettings, *routers: APIRouter) -> FastAPI:
    """A kernel app (build_app: problems, headers, auth, operational routes) serving `routers`."""
    spec = ServiceSpec(title="auth test", description="A service under test", routers=routers,
                       migrations=Path(__file__).parent)
    return build_app(spec, settings)


def as_role(settings: ServiceSettings, *roles: Role, **claims: str) -> dict[str, str]:
    """Headers of a caller with `roles` (and scoping claims: handler_id, reviewer_id, ...), signed
    with the dev secret of a service under test."""
    scopes = {k: claims.pop(k) for k in ("agency_id", "handler_id", "institution_id", "reviewer_id") if k in claims}
    return bearer(mint_token(settings, list(roles) or [Role.public], scopes=scopes, **claims))


def staff(settings: ServiceSettings) -> dict[str, str]:
    """Headers of the default caller (STAFF_ROLES)."""
    return as_role(settings, *STAFF_ROLES, sub="staff-1")
