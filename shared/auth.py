"""Who may call what: OAuth2 bearer JWTs from the bureau's identity provider, verified here, and
roles declared once per endpoint (docs/security.md).

An endpoint declares the roles it admits with one parameter, which also hands it the caller:

    @router.get("/{case_id}", summary=...)
    async def get_case(case_id: str,
                       principal: Annotated[Principal, allow(Role.case_handler, Role.quality_lead)]):
        if principal.role is Role.case_handler and case.handler_id != principal.handler_id: ...

or, when it does not need the caller, `dependencies=[allow(Role.auditor)]` in the decorator. Both
are the same `Depends`; `route_roles(app)` finds them either way. `allow(Role.public)` admits
callers without a token, and limits each client address to `public_rate_limit` requests
(shared/ratelimit.py). An endpoint without `allow` is not checked at all: the next phase
declares roles on every service endpoint, and a test compares them with docs/security.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter
from starlette.exceptions import HTTPException

from shared import context
from shared.aggregate import Forbidden
from shared.ratelimit import RateLimit
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

REALM = "fayuan"
ASYMMETRIC = ("RS256", "ES256")


class Role(StrEnum):
    agency_staff = "agency_staff"
    case_handler = "case_handler"
    closing_checker = "closing_checker"
    quality_lead = "quality_lead"
    peer_reviewer = "peer_reviewer"
    bureau_investigator = "bureau_investigator"
    bar_association = "bar_association"
    judicial_organ = "judicial_organ"
    auditor = "auditor"
    public = "public"
    # The agency's finance (财务): approves and records case subsidies, for the token's agency_id.
    finance = "finance"
    # A law firm or grassroots legal service (its `institution_id`): arranges one of its handlers
    # for a case the agency gave it, and reads its handlers' cases (R-PRV-4).
    institution = "institution"


@dataclass(frozen=True)
class Principal:
    """The caller, from the token's claims. `role` is the role it acts in at this endpoint: the
    first of the endpoint's declared roles that the caller holds. The scoping claims say whose
    records the caller may see; the endpoint compares them (a handler sees only their cases)."""

    sub: str
    roles: frozenset[Role]
    name: str | None = None
    agency_id: str | None = None
    handler_id: str | None = None
    institution_id: str | None = None
    reviewer_id: str | None = None
    district: str | None = None
    role: Role | None = None
    # The roles it acts in at this endpoint: those it holds that the endpoint admits (its scope
    # is the widest they give, agency_scope). Empty outside an endpoint: `role` alone then.
    acting: frozenset[Role] = frozenset()

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        raw = claims.get("roles") or []
        if isinstance(raw, str):  # some identity providers send one role as a plain string
            raw = [raw]
        known = {r.value for r in Role}
        return cls(
            sub=str(claims["sub"]),
            roles=frozenset(Role(r) for r in raw if r in known),
            name=claims.get("name"),
            agency_id=_opt(claims.get("agency_id")),
            handler_id=_opt(claims.get("handler_id")),
            institution_id=_opt(claims.get("institution_id")),
            reviewer_id=_opt(claims.get("reviewer_id")),
            district=_opt(claims.get("district")),
        )


ANONYMOUS = Principal(sub="anonymous", roles=frozenset({Role.public}))


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


# --- scoping by agency and district (docs/security.md "Scoping") ----------------------------

# Roles that act for one legal-aid agency: their token names it (`agency_id`), and they see and
# act on that agency's records only. A new agency role is one more member here.
AGENCY_ROLES: frozenset[Role] = frozenset({Role.agency_staff, Role.closing_checker, Role.quality_lead,
                                          Role.finance})
# Roles of the justice bureau: a `district` claim scopes them to the agencies of that district;
# without one they are the city bureau and see every agency.
BUREAU_ROLES: frozenset[Role] = frozenset({Role.bureau_investigator})


@dataclass(frozen=True)
class AgencyScope:
    """Whose records a caller may see and act on: one agency's (`agency_id`), the agencies of one
    district (`district`), or every agency (neither)."""

    agency_id: str | None = None
    district: str | None = None

    @property
    def unlimited(self) -> bool:
        return self.agency_id is None and self.district is None

    def admits(self, agency_id: str | None, district: str | None = None) -> bool:
        """A record of `agency_id` (in `district`, where the record says) is within the scope."""
        if self.agency_id is not None:
            return agency_id == self.agency_id
        if self.district is not None:
            return district == self.district
        return True


EVERY_AGENCY = AgencyScope()
# An agency role whose token names no agency: never a real id, so it admits nothing (and `allow`
# refuses such a caller before any endpoint runs).
NO_AGENCY = AgencyScope(agency_id="\u2205 no agency_id claim")


def _scope_of_role(principal: Principal, role: Role) -> AgencyScope:
    if role in AGENCY_ROLES:
        return AgencyScope(agency_id=principal.agency_id) if principal.agency_id else NO_AGENCY
    if role in BUREAU_ROLES and principal.district is not None:
        return AgencyScope(district=principal.district)
    return EVERY_AGENCY


# Roles scoped by a claim of their own (a handler's cases, an organ's notifications, a reviewer's
# files, an institution's handlers, the bar association's notices), not by agency: held beside an
# agency role, they must not widen what that role sees.
SELF_SCOPED_ROLES: frozenset[Role] = frozenset({
    Role.case_handler, Role.peer_reviewer, Role.judicial_organ, Role.institution, Role.bar_association})


def agency_scope(principal: Principal) -> AgencyScope:
    """The agencies whose records the caller sees and acts on at this endpoint: the widest scope
    of the roles it acts in (every agency, then one district's, then one agency's). Roles scoped
    by their own claims (SELF_SCOPED_ROLES) count only when the caller acts in no other role, and
    the auditor reads every agency."""
    roles = principal.acting or (frozenset({principal.role}) if principal.role else principal.roles)
    roles = frozenset(role for role in roles if role is not Role.public)
    scopes = [_scope_of_role(principal, role) for role in roles - SELF_SCOPED_ROLES]
    if not scopes or any(s.unlimited for s in scopes):
        return EVERY_AGENCY
    return next((s for s in scopes if s.district is not None),
                next((s for s in scopes if s is not NO_AGENCY), NO_AGENCY))


class NotTheCaller(Forbidden):
    """A body field names an actor other than the caller: who acts is the token's subject."""


def acting_as(principal: Principal, field: str, named: str | None) -> str:
    """The actor of a command: the token's subject. A body field that names the actor may be left
    out; when sent, it must be the subject, or the command is refused (403 naming the field)."""
    if named is not None and named != principal.sub:
        raise NotTheCaller(f"{field}: the actor of a command is the caller (the token's subject "
                           f"{principal.sub!r}); leave {field} out or send your own id")
    return principal.sub


class InvalidToken(Exception):
    """The token is missing a key, badly signed, expired or not for us; the message says which."""


# --- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    algorithm: str
    key: Any
    kid: str | None = None


def _unsupported(key: object) -> ValueError:
    return ValueError(f"unsupported key type {type(key).__name__}: use RSA (RS256) or P-256 (ES256)")


def _algorithm_of(key: Any) -> str:
    if isinstance(key, RSAPublicKey | RSAPrivateKey):
        return "RS256"
    if isinstance(key, EllipticCurvePublicKey | EllipticCurvePrivateKey):
        return "ES256"
    raise _unsupported(key)


def _pem_blocks(text: str) -> list[str]:
    """Several PEM public keys may be given at once (a key rotation keeps the old one for a while)."""
    marker = "-----END PUBLIC KEY-----"
    return [block.strip() + "\n" + marker + "\n" for block in text.split(marker) if block.strip()]


JWKS_FETCHES = Counter("fayuan_auth_jwks_fetches_total",
                       "Fetches of the identity provider's JWKS, by outcome (ok, error)", ["outcome"])


class _RemoteKeys:
    """The identity provider's signing keys, from its JWKS URL. PyJWT's PyJWKClient fetches and
    parses the document; this class decides when, and never blocks the event loop:

    - a fetched set is used for `auth_jwks_cache_seconds`; a token naming a kid in it costs no I/O;
    - a kid not in the set (the provider rotated its key) fetches the set again, at most once per
      `auth_jwks_refetch_seconds`, so tokens with made-up kids cannot hammer the provider;
    - a fetch runs in a thread (PyJWKClient is blocking), one at a time: requests arriving
      meanwhile wait for it rather than fetching too;
    - while the provider does not answer, the last set fetched stays in use (logged, retried every
      `auth_jwks_refetch_seconds`); a kid it does not hold is refused: 401, the same answer as for
      any key the service cannot check a token with.

    `generation` grows whenever a fetch changes the set, so the verifier can drop the verdicts it
    cached under keys that may be gone."""

    def __init__(self, url: str, settings: ServiceSettings):
        self.url = url
        self.lifespan = settings.auth_jwks_cache_seconds
        self.refetch = settings.auth_jwks_refetch_seconds
        # PyJWKClient's own set cache is off: the decisions above need the time of the last
        # attempt and the set last fetched, and its cache would fetch on the calling thread.
        self.client = jwt.PyJWKClient(self.url, cache_jwk_set=False, cache_keys=False,
                                      timeout=settings.auth_jwks_timeout_seconds)
        self.keys: dict[str, jwt.PyJWK] = {}
        self.generation = 0
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._failed_at: float | None = None  # of the last failed one, while failing
        self._lock: asyncio.Lock | None = None

    async def key(self, kid: str) -> jwt.PyJWK:
        found, fetch = self._lookup(kid)
        if fetch:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                found, fetch = self._lookup(kid)  # a fetch done while this request waited counts
                if fetch:
                    await self._fetch()
                    found = self.keys.get(kid)
        if found is None:
            raise InvalidToken(self._why_not(kid))
        return found

    def _lookup(self, kid: str) -> tuple[jwt.PyJWK | None, bool]:
        """The key if it may be used without fetching, and whether to fetch first."""
        now = time.monotonic()
        found = self.keys.get(kid)
        if self._failed_at is not None and now - self._failed_at < self.refetch:
            return found, False  # the provider did not answer a moment ago: what we have
        fresh = self._fetched_at is not None and now - self._fetched_at < self.lifespan
        if found is not None and fresh:
            return found, False
        recent = self._fetched_at is not None and now - self._fetched_at < self.refetch
        return found, not recent

    def _why_not(self, kid: str) -> str:
        if self._failed_at is not None:
            return f"no key with kid {kid!r}: the identity provider's keys could not be fetched"
        return f"no key with kid {kid!r} at the identity provider"

    async def _fetch(self) -> None:
        try:
            fetched = await asyncio.to_thread(self.client.get_signing_keys, True)
        except Exception as exc:  # any failure of the fetch (network, HTTP, JSON, keys): keep what we have
            self._failed_at = time.monotonic()
            JWKS_FETCHES.labels("error").inc()
            log.warning(
                "identity provider keys not fetched from %s: %s: %s; using the %d keys fetched before, "
                "tokens naming another key are refused (401); next attempt in %.0f s",
                self.url, type(exc).__name__, exc, len(self.keys), self.refetch,
                extra={"jwks_url": self.url},
            )
            return
        keys = {k.key_id: k for k in fetched if k.key_id and k.algorithm_name in ASYMMETRIC}
        if _fingerprint(keys) != _fingerprint(self.keys):
            self.generation += 1
            log.info("identity provider keys fetched from %s: kids %s", self.url, sorted(keys),
                     extra={"jwks_url": self.url})
        if self._failed_at is not None:
            log.info("identity provider keys fetched from %s again", self.url, extra={"jwks_url": self.url})
        self.keys = keys
        self._fetched_at = time.monotonic()
        self._failed_at = None
        JWKS_FETCHES.labels("ok").inc()


def _fingerprint(keys: dict[str, jwt.PyJWK]) -> dict[str, tuple[str, str]]:
    """What makes two sets the same: each kid's algorithm and public key (a provider may, against
    advice, reuse a kid for a new key)."""
    return {kid: (k.algorithm_name, repr(_public_numbers(k.key))) for kid, k in keys.items()}


def _public_numbers(key: Any) -> Any:
    public = key.public_key() if isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey) else key
    return public.public_numbers() if isinstance(public, RSAPublicKey | EllipticCurvePublicKey) else public


class TokenVerifier:
    """Checks signature, issuer, audience, `exp` (required), `nbf` and `iat` with the leeway of the
    settings. RS256/ES256 against the configured public keys (`auth_public_keys`, `auth_jwks_file`)
    and the identity provider's JWKS URL (`auth_jwks_url`); HS256 only with the dev secret in
    environment=dev, so a leaked dev secret can never mint tokens a production service accepts."""

    # Verified tokens, by the whole token (signature included), so a client sending the same token
    # on every request is checked once (the signature is about 6 % of a registration's CPU:
    # docs/benchmarks.md), and a request with a known token never reaches the JWKS. `exp` is
    # checked again on every hit; when a fetch of the JWKS changes the keys, every verdict is
    # dropped, so none outlives a withdrawn key by more than that fetch. Bounded, least recently
    # used out first.
    CACHE_SIZE = 1024

    def __init__(self, settings: ServiceSettings):
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self.leeway = settings.auth_leeway_seconds
        self.dev_secret = settings.auth_dev_secret if settings.environment == "dev" else None
        self.keys: list[_Key] = []
        if settings.auth_public_keys:
            for block in _pem_blocks(settings.auth_public_keys):
                key = load_pem_public_key(block.encode())
                self.keys.append(_Key(_algorithm_of(key), key))
        if settings.auth_jwks_file:
            jwks = jwt.PyJWKSet.from_dict(json.loads(Path(settings.auth_jwks_file).read_text()))
            for jwk in jwks.keys:
                if jwk.algorithm_name in ASYMMETRIC:
                    self.keys.append(_Key(jwk.algorithm_name, jwk.key, jwk.key_id))
        self.remote = _RemoteKeys(settings.auth_jwks_url, settings) if settings.auth_jwks_url else None
        self._generation = 0

    async def verify(self, token: str) -> dict[str, Any]:
        if self.remote is not None and self.remote.generation != self._generation:
            self._verified.clear()
            self._generation = self.remote.generation
        claims = self._verified.get(token)
        if claims is not None:
            if time.time() > claims["exp"] + self.leeway:
                del self._verified[token]
                raise InvalidToken("Signature has expired")
            self._verified.move_to_end(token)
            return claims
        claims = await self._verify(token)
        self._verified[token] = claims
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        alg = header.get("alg")
        if alg == "HS256":
            if not self.dev_secret:
                raise InvalidToken("HS256 tokens are accepted only by a dev stack")
            return self._decode(token, self.dev_secret, "HS256")
        if alg not in ASYMMETRIC:
            raise InvalidToken(f"algorithm {alg!r} is not accepted (RS256, ES256)")
        kid = header.get("kid")
        candidates = [k for k in self.keys if k.algorithm == alg and (kid is None or k.kid in (None, kid))]
        missing: InvalidToken | None = None
        if self.remote is not None and isinstance(kid, str) and not any(k.kid == kid for k in candidates):
            try:
                jwk = await self.remote.key(kid)
                candidates.insert(0, _Key(jwk.algorithm_name, jwk.key, kid))
            except InvalidToken as exc:
                missing = exc
        candidates = [k for k in candidates if k.algorithm == alg]
        if not candidates:
            raise missing or InvalidToken(f"no {alg} key configured" + (f" with kid {kid!r}" if kid else ""))
        error: InvalidToken | None = None
        for candidate in candidates:
            try:
                return self._decode(token, candidate.key, alg)
            except InvalidToken as exc:
                error = exc
        assert error is not None  # noqa: S101 - candidates is not empty  # nosec B101
        raise error

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token, key, algorithms=[alg], audience=self.audience, issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_iat": True, "verify_nbf": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc


# --- minting (dev tokens and tests) ---------------------------------------------------------

DEV_SECRET_FILE = Path(__file__).resolve().parent.parent / ".fayuan" / "auth-dev-secret"


def dev_secret(path: Path = DEV_SECRET_FILE, *, create: bool = False) -> str | None:
    """The dev stack's HS256 secret: made once per checkout, kept in .fayuan/ (never in git)."""
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()



def mint_token(
    settings: ServiceSettings,
    role: Role | str | list[Role | str],
    *,
    sub: str | None = None,
    name: str | None = None,
    minutes: float = 60,
    private_key_pem: bytes | None = None,
    kid: str | None = None,
    scopes: dict[str, str | None] | None = None,
    now: float | None = None,
) -> str:
    """A token for the settings' issuer and audience, signed with a private key (RS256/ES256 by
    its type) or else with the dev secret (HS256). `scopes`: agency_id, handler_id, ..."""
    roles = [str(r) for r in (role if isinstance(role, list) else [role])]
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": settings.auth_issuer, "aud": settings.auth_audience,
        "sub": sub or f"dev-{roles[0]}", "name": name or f"Dev {roles[0]}", "roles": roles,
        "iat": issued, "nbf": issued, "exp": issued + int(minutes * 60), "jti": uuid.uuid4().hex,
    }
    claims |= {k: v for k, v in (scopes or {}).items() if v is not None}
    headers = {"kid": kid} if kid else None
    if private_key_pem is not None:
        key = load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
            raise _unsupported(key)
        return jwt.encode(claims, key, algorithm=_algorithm_of(key), headers=headers)
    if not settings.auth_dev_secret:
        raise ValueError("no private key given and no dev secret (FAYUAN_AUTH_DEV_SECRET) set")
    return jwt.encode(claims, settings.auth_dev_secret, algorithm="HS256", headers=headers)


# --- declaring and enforcing ----------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT",
                     description="A JWT from the bureau's identity provider (dev: `make token ROLE=...`).")


def _unauthenticated(description: str | None) -> HTTPException:
    # RFC 6750 §3.1: a request without credentials gets no error code, a bad token gets invalid_token.
    challenge = f'Bearer realm="{REALM}"'
    if description:
        challenge += f', error="invalid_token", error_description="{description.replace(chr(34), chr(39))}"'
    return HTTPException(401, detail=description or "A bearer token is required.",
                         headers={"WWW-Authenticate": challenge})


class _Allow:
    """The dependency `allow()` returns; its `roles` are what `route_roles` reads."""

    def __init__(self, roles: tuple[Role, ...]):
        self.roles = roles

    async def __call__(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    ) -> Principal:
        # Async on purpose: FastAPI runs it in the request's own task, so the context variables
        # set here are the ones the endpoint's unit of work reads.
        if Role.public in self.roles:  # open to anyone, so limited per address (shared/ratelimit.py)
            public_rate_limit(request.app).hit(client_ip(request) or "unknown")
        principal = await self._authenticate(request, credentials)
        acting = next((r for r in self.roles if r in principal.roles), None)
        if acting is None:
            raise HTTPException(
                403, detail=f"This needs one of the roles: {', '.join(self.roles)}.",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'},
            )
        principal = replace(principal, role=acting,
                            acting=frozenset(r for r in self.roles if r in principal.roles))
        if agency_scope(principal) is NO_AGENCY:
            raise HTTPException(
                403, detail="agency_id: a token of an agency role names its agency (the agency_id claim).",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'},
            )
        context.actor.set(principal.sub)
        context.role.set(acting.value)
        context.source_ip.set(client_ip(request))
        return principal

    async def _authenticate(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None
    ) -> Principal:
        public = Role.public in self.roles
        if credentials is None:
            if public:
                return ANONYMOUS
            raise _unauthenticated(None)
        try:
            claims = await verifier(request.app).verify(credentials.credentials)
        except InvalidToken as exc:
            if public:  # a stale token must not lock anyone out of what everybody may read
                return ANONYMOUS
            raise _unauthenticated(str(exc)) from exc
        principal = Principal.from_claims(claims)
        return replace(principal, roles=principal.roles | {Role.public}) if public else principal


def allow(*roles: Role) -> Any:
    """The roles that may call an endpoint; as a parameter's `Annotated` metadata it also gives
    the endpoint the `Principal`."""
    if not roles:
        raise ValueError("allow() needs at least one role (Role.public for open endpoints)")
    return Depends(_Allow(tuple(Role(r) for r in roles)))


def verifier(app: FastAPI) -> TokenVerifier:
    cached = getattr(app.state, "token_verifier", None)
    if cached is None:
        cached = app.state.token_verifier = TokenVerifier(app.state.settings)
    return cached


def public_rate_limit(app: FastAPI) -> RateLimit:
    cached = getattr(app.state, "public_rate_limit", None)
    if cached is None:
        cached = app.state.public_rate_limit = RateLimit(app.state.settings.public_rate_limit)
    return cached


def client_ip(request: Request) -> str | None:
    """The ASGI peer; behind a trusted proxy, the nearest untrusted address of X-Forwarded-For."""
    peer = request.client.host if request.client else None
    trusted = getattr(request.app.state, "trusted_proxies", [])
    if not peer or not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


# --- reading the declarations back ----------------------------------------------------------


def _declarations(dependant: Dependant) -> list[tuple[Role, ...]]:
    found: list[tuple[Role, ...]] = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, _Allow):
            found.append(dep.call.roles)
        found += _declarations(dep)
    return found


def _api_routes(app: FastAPI) -> list[Any]:
    """The API routes as OpenAPI sees them: FastAPI >= 0.16x keeps included routers as lazy
    branches, flattened (with the router's prefix and dependencies) by iter_route_contexts."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: include_router copies the routes into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [ctx for ctx in iter_route_contexts(app.routes) if isinstance(ctx.original_route, APIRoute)]


def route_roles(app: FastAPI) -> list[tuple[str, str, tuple[Role, ...]]]:
    """(method, path, roles) of every API route, sorted; roles are () where none are declared."""
    rows = []
    for route in _api_routes(app):
        if route.include_in_schema:
            declared = _declarations(route.dependant)
            if len(declared) > 1:  # both would be enforced; the docs table could show only one
                raise ValueError(f"{route.path}: roles declared {len(declared)} times; declare them once")
            roles = declared[0] if declared else ()
            rows += [(method, route.path, roles) for method in sorted(route.methods)]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def roles_table(app: FastAPI) -> str:
    """The markdown table docs/security.md shows under "Endpoints and roles"."""
    lines = ["| Method | Path | Roles |", "|---|---|---|"]
    for method, path, roles in route_roles(app):
        lines.append(f"| {method} | `{path}` | {', '.join(roles) if roles else '(none declared)'} |")
    return "\n".join(lines) + "\n"


def install_auth(app: FastAPI, settings: ServiceSettings) -> None:
    """Build the verifier now (a bad key file stops start-up, not the first request) and show
    each operation's roles in OpenAPI as `x-roles` and in its description."""
    app.state.token_verifier = TokenVerifier(settings)
    app.state.public_rate_limit = RateLimit(settings.public_rate_limit)
    app.state.trusted_proxies = settings.trusted_proxy_networks
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for method, path, roles in route_roles(app):
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None or not roles:
                continue
            operation["x-roles"] = list(roles)
            note = f"Roles: {', '.join(roles)}."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            if roles == (Role.public,) or Role.public in roles:
                operation["security"] = [{}, *operation.get("security", [])]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
