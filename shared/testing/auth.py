"""Tokens and keys for tests: an identity provider in a few lines. Keys are generated per test
with cryptography; tokens are minted with shared.auth.mint_token, as the dev CLI does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

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

# Personal-data keys of services under test (docs/privacy.md): fixed, so a test can restart a service
# and still read what it sealed. Never production keys.
TEST_MASTER_KEYS = "test-1:" + "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="  # noqa: S105 - test fixture
TEST_REF_KEY = "dGVzdC1vbmx5LXJlZmVyZW5jZS1rZXktMzItYnl0ZXM="  # noqa: S105 - test fixture

# The roles of the default caller of tests that are not about authorisation: the agency's side
# (staff, checker, quality lead), the bureau and the auditor. None of them is scoped to a handler,
# reviewer or notifying organ, so a test acting as a handler or reviewer says so with as_role().
STAFF_ROLES = (
    Role.agency_staff, Role.closing_checker, Role.quality_lead, Role.bureau_investigator, Role.auditor,
)
# The default caller's agency: an agency role's token names one (docs/security.md "Scoping"). It
# reads every agency (it is also the city bureau and an auditor) and acts for this one alone.
STAFF_AGENCY = "chaoyang-centre"


@dataclass(frozen=True)
class KeyPair:
    """A signing key of the test identity provider."""

    private_pem: bytes
    public_pem: str
    algorithm: str
    kid: str

    def jwk(self) -> dict[str, Any]:
        public = serialization.load_pem_public_key(self.public_pem.encode())
        if self.algorithm == "RS256" and isinstance(public, rsa.RSAPublicKey):
            fields = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif self.algorithm != "RS256" and isinstance(public, ec.EllipticCurvePublicKey):
            fields = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            raise TypeError(f"a {type(public).__name__} is no {self.algorithm} key")
        return {**fields, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _pair(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, algorithm: str, kid: str) -> KeyPair:
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


def auth_settings(
    *, public_keys: Sequence[KeyPair] = (), jwks_file: Path | None = None, **overrides: object
) -> dict[str, Any]:
    """Overrides for make_settings / ServiceSettings: the test issuer, audience and keys."""
    values: dict[str, Any] = {"auth_issuer": ISSUER, "auth_audience": AUDIENCE, "environment": "test",
                                 "relay_enabled": False, "consumers_enabled": False}
    if public_keys:
        values["auth_public_keys"] = "".join(k.public_pem for k in public_keys)
    if jwks_file is not None:
        values["auth_jwks_file"] = jwks_file
    values.update(overrides)
    return values


class TokenOptions(TypedDict, total=False):
    """The options of shared.auth.mint_token a test may give."""

    sub: str | None
    name: str | None
    minutes: float
    now: float | None


class Claims(TokenOptions, total=False):
    """What a test says of its caller beside the roles: mint_token's options and the scoping claims."""

    agency_id: str
    handler_id: str
    institution_id: str
    reviewer_id: str
    district: str


def _take_scopes(claims: Claims) -> dict[str, str | None]:
    """The scoping claims, taken out of `claims` (mint_token leaves out the ones that are None)."""
    return {
        "agency_id": claims.pop("agency_id", None),
        "handler_id": claims.pop("handler_id", None),
        "institution_id": claims.pop("institution_id", None),
        "reviewer_id": claims.pop("reviewer_id", None),
        "district": claims.pop("district", None),
    }


def token(
    settings: ServiceSettings, key: KeyPair | None, *roles: Role, use_kid: bool = True,
    **claims: Unpack[Claims],
) -> str:
    """A token for `settings`, signed with `key` (or the dev secret when None)."""
    scopes = _take_scopes(claims)
    options: TokenOptions = claims
    return mint_token(settings, list(roles) or [Role.public],
                      private_key_pem=key.private_pem if key else None,
                      kid=key.kid if key and use_kid else None, scopes=scopes, **options)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def app_with_auth(settings: ServiceSettings, *routers: APIRouter) -> FastAPI:
    """A kernel app (build_app: problems, headers, auth, operational routes) serving `routers`."""
    spec = ServiceSpec(title="auth test", description="A service under test", routers=routers,
                       migrations=Path(__file__).parent)
    return build_app(spec, settings)


def as_role(settings: ServiceSettings, *roles: Role, **claims: Unpack[Claims]) -> dict[str, str]:
    """Headers of a caller with `roles` (and scoping claims: handler_id, reviewer_id, ...), signed
    with the dev secret of a service under test."""
    scopes = _take_scopes(claims)
    options: TokenOptions = claims
    return bearer(mint_token(settings, list(roles) or [Role.public], scopes=scopes, **options))


def staff(settings: ServiceSettings, agency_id: str = STAFF_AGENCY) -> dict[str, str]:
    """Headers of the default caller (STAFF_ROLES), acting for `agency_id`."""
    return as_role(settings, *STAFF_ROLES, sub="staff-1", agency_id=agency_id)
