"""Personal data of aided persons, sealed with a data key of their own (crypto-shredding).

A person is known by `person_ref`, a keyed HMAC of their ID number: the same person across
cases shares one data key, and the ref alone tells nothing. Each data key is a random 256-bit
AES-GCM key, stored wrapped by a master key from settings in `personal_data_keys`. A field is
sealed into a token `pd1:<key version>:<base64url(nonce|ciphertext)>` whose associated data
binds person, field and version, so a token cannot be moved to another field or person.

Erasing a person nulls their wrapped keys: every token sealed for them, wherever it was
copied (events, projections, backups of those), no longer opens, and `unseal` says `Erased`
instead, so the case history stays whole. A later application of the same person gets a new
key version.

No unwrapped key is cached beyond one call: a key cached in one process would outlive an
erasure done by another, and would keep the person readable in memory; one primary-key read
per call is cheap next to that (docs/privacy.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.settings import ServiceSettings
from shared.store import driver

log = logging.getLogger(__name__)

SEAL_PREFIX = "pd1"
_NONCE = 12
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,39}")
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TOKEN = re.compile(r"pd1:([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)")


class PersonalDataError(Exception):
    """A sealed value does not open (tampered, moved, or from another database)."""


class VaultConfigError(PersonalDataError):
    """The master or reference keys are missing, malformed or wrong."""


@dataclass(frozen=True)
class Erased:
    """What `unseal` returns for an erased person: show "erased", keep the history."""

    erased_at: datetime | None


@dataclass(frozen=True)
class Erasure:
    person_ref: str
    erased_at: datetime
    erased_by: str
    reason: str
    key_versions: int


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultConfigError(f"{what} is not base64") from None


def parse_master_keys(value: str) -> dict[str, bytes]:
    """`id:base64,id:base64` → {id: 32 bytes}, in order (the first wraps new keys)."""
    keys: dict[str, bytes] = {}
    for n, item in enumerate(p for p in value.split(",") if p.strip()):
        key_id, sep, material = item.strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise VaultConfigError(f"master key #{n + 1} is not 'id:base64' with a short id")
        if key_id in keys:
            raise VaultConfigError(f"master key id {key_id!r} is listed twice")
        keys[key_id] = _b64(material, f"master key {key_id!r}")
        if len(keys[key_id]) != 32:
            raise VaultConfigError(f"master key {key_id!r} is not 32 bytes")
    if not keys:
        raise VaultConfigError("no master key: set FAYUAN_PERSONAL_DATA_MASTER_KEYS (docs/privacy.md)")
    return keys


def new_master_key(key_id: str) -> str:
    """A fresh `id:base64` entry for FAYUAN_PERSONAL_DATA_MASTER_KEYS."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


# The person's latest data key, or, when they have none, a first one inserted (`added`). A first
# seal of the same person committing meanwhile makes the insert wait for it and add nothing: no
# row comes back, and the caller reads the winner's key. An erased latest key comes back with
# wrapped_key NULL: the caller makes the next version.
_LIVE_OR_FIRST_KEY = """
WITH latest AS (
    SELECT key_version, master_key_id, wrapped_key FROM personal_data_keys
    WHERE person_ref = $1 ORDER BY key_version DESC LIMIT 1
), added AS (
    INSERT INTO personal_data_keys (person_ref, key_version, master_key_id, wrapped_key)
    SELECT $1, 1, $2, $3 WHERE NOT EXISTS (SELECT FROM latest)
    ON CONFLICT DO NOTHING
    RETURNING key_version, master_key_id, wrapped_key
)
SELECT key_version, master_key_id, wrapped_key, true AS added FROM added
UNION ALL
SELECT key_version, master_key_id, wrapped_key, false FROM latest
"""


class PersonalDataVault:
    """Seals and unseals aided persons' personal data on the caller's connection (and so in
    the caller's transaction). Holds the master keys only; every data key is read per call."""

    def __init__(self, master_keys: Mapping[str, bytes], ref_key: bytes):
        if len(ref_key) < 32:
            raise VaultConfigError("the reference key is shorter than 32 bytes")
        self._master = dict(master_keys)
        self._current = next(iter(self._master))
        self._ref_key = ref_key

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PersonalDataVault:
        ref = settings.personal_data_ref_key.get_secret_value()
        if not ref:
            raise VaultConfigError("no reference key: set FAYUAN_PERSONAL_DATA_REF_KEY (docs/privacy.md)")
        return cls(
            parse_master_keys(settings.personal_data_master_keys.get_secret_value()),
            _b64(ref, "the reference key"),
        )

    def person_ref(self, id_number: str) -> str:
        """The person's pseudonym: HMAC-SHA256 of the normalised ID number under the ref key."""
        normalised = id_number.strip().upper()
        return hmac.new(self._ref_key, f"id_number:{normalised}".encode(), hashlib.sha256).hexdigest()

    # -- data keys ------------------------------------------------------------------------

    def _wrap_aad(self, person_ref: str, version: int, master_id: str) -> bytes:
        return f"pdk1|{person_ref}|{version}|{master_id}".encode()

    def _unwrap(self, person_ref: str, version: int, master_id: str, wrapped: bytes) -> bytes:
        master = self._master.get(master_id)
        if master is None:
            raise VaultConfigError(
                f"the data key was wrapped by master key {master_id!r}, which is not configured "
                "(FAYUAN_PERSONAL_DATA_MASTER_KEYS)"
            )
        try:
            return AESGCM(master).decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], self._wrap_aad(person_ref, version, master_id)
            )
        except InvalidTag:
            raise VaultConfigError(
                f"the data key does not unwrap with master key {master_id!r}: "
                "wrong master key, or the row was altered"
            ) from None

    def _wrap(self, person_ref: str, version: int, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        aad = self._wrap_aad(person_ref, version, self._current)
        return nonce + AESGCM(self._master[self._current]).encrypt(nonce, data_key, aad)

    async def _live_key(self, conn: AsyncConnection, person_ref: str) -> tuple[int, bytes]:
        """The person's current data key, created when they have none or only erased ones.

        One round trip for the two common cases, a person seen before (their live key) and a new
        one (a first key, inserted); an erased person, or a first seal racing another's, takes
        the longer way below."""
        db = await driver(conn)
        data_key = AESGCM.generate_key(bit_length=256)
        row = await db.fetchrow(_LIVE_OR_FIRST_KEY, person_ref, self._current,
                                self._wrap(person_ref, 1, data_key))
        if row is not None and row["added"]:
            return 1, data_key
        if row is not None and row["wrapped_key"] is not None:
            return row["key_version"], self._unwrap(
                person_ref, row["key_version"], row["master_key_id"], row["wrapped_key"]
            )
        for _ in range(3):
            row = await db.fetchrow(
                "SELECT key_version, master_key_id, wrapped_key FROM personal_data_keys "
                "WHERE person_ref = $1 ORDER BY key_version DESC LIMIT 1",
                person_ref,
            )
            if row is not None and row["wrapped_key"] is not None:
                return row["key_version"], self._unwrap(
                    person_ref, row["key_version"], row["master_key_id"], row["wrapped_key"]
                )
            version = 1 if row is None else row["key_version"] + 1
            data_key = AESGCM.generate_key(bit_length=256)
            # A concurrent first seal for the same person inserts the same version: the loser
            # waits for the winner's commit, inserts nothing, and reads the winner's key.
            inserted = await db.fetchval(
                "INSERT INTO personal_data_keys (person_ref, key_version, master_key_id, wrapped_key) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key_version",
                person_ref,
                version,
                self._current,
                self._wrap(person_ref, version, data_key),
            )
            if inserted is not None:
                return version, data_key
        raise PersonalDataError("could not create a data key (the person is being erased concurrently)")

    # -- fields ---------------------------------------------------------------------------

    @staticmethod
    def _field_aad(person_ref: str, field: str, version: int) -> bytes:
        return f"{SEAL_PREFIX}|{person_ref}|{field}|{version}".encode()

    async def seal(
        self, conn: AsyncConnection, person_ref: str, fields: Mapping[str, str | None]
    ) -> dict[str, str]:
        """Each non-None field as a token; store the tokens, never the values."""
        for field in fields:
            if not _FIELD.fullmatch(field):
                raise ValueError(f"field name {field!r} is not lower_snake_case")
        if all(value is None for value in fields.values()):
            return {}
        version, key = await self._live_key(conn, person_ref)
        aes = AESGCM(key)
        sealed = {}
        for field, value in fields.items():
            if value is None:
                continue
            nonce = os.urandom(_NONCE)
            blob = nonce + aes.encrypt(nonce, value.encode(), self._field_aad(person_ref, field, version))
            sealed[field] = f"{SEAL_PREFIX}:{version}:{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"
        return sealed

    async def unseal(
        self, conn: AsyncConnection, person_ref: str, sealed: Mapping[str, str]
    ) -> dict[str, str] | Erased:
        """The values of `sealed`, or `Erased` when the person's key for them was erased."""
        parsed: dict[str, tuple[int, bytes]] = {}
        for field, token in sealed.items():
            match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
            if match is None:
                raise PersonalDataError(f"the sealed value of {field!r} is not a personal-data token")
            try:
                blob = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
            except (binascii.Error, ValueError):
                raise PersonalDataError(
                    f"the sealed value of {field!r} is not a personal-data token"
                ) from None
            parsed[field] = (int(match.group(1)), blob)
        if not parsed:
            return {}
        versions = sorted({v for v, _ in parsed.values()})
        db = await driver(conn)
        rows = await db.fetch(
            "SELECT key_version, master_key_id, wrapped_key, erased_at FROM personal_data_keys "
            "WHERE person_ref = $1 AND key_version = ANY($2::int[])",
            person_ref,
            versions,
        )
        by_version = {r["key_version"]: r for r in rows}
        for version in versions:
            row = by_version.get(version)
            if row is None:
                raise PersonalDataError("a sealed value names a data key this person does not have")
            if row["wrapped_key"] is None:
                return Erased(erased_at=row["erased_at"])
        keys = {
            v: AESGCM(
                self._unwrap(person_ref, v, by_version[v]["master_key_id"], by_version[v]["wrapped_key"])
            )
            for v in versions
        }
        values = {}
        for field, (version, blob) in parsed.items():
            try:
                plain = keys[version].decrypt(
                    blob[:_NONCE], blob[_NONCE:], self._field_aad(person_ref, field, version)
                )
            except (InvalidTag, ValueError):
                raise PersonalDataError(
                    f"the sealed value of {field!r} does not open: "
                    "altered, or sealed for another field or person"
                ) from None
            values[field] = plain.decode()
        return values

    # -- erasure and rotation ---------------------------------------------------------------

    async def erase(
        self, conn: AsyncConnection, person_ref: str, *, actor: str, reason: str
    ) -> Erasure | None:
        """Crypto-shred the person: null every wrapped data key, recording who and why.
        Idempotent: erasing again changes nothing and returns the erasure in effect (the
        latest). None when the person never had a key."""
        if not actor.strip() or not reason.strip():
            raise ValueError("an erasure needs an actor and a reason")
        db = await driver(conn)
        await db.execute(
            "UPDATE personal_data_keys SET wrapped_key = NULL, erased_at = clock_timestamp(), "
            "erased_by = $2, erase_reason = $3 WHERE person_ref = $1 AND erased_at IS NULL",
            person_ref,
            actor,
            reason,
        )
        row = await db.fetchrow(
            "SELECT max(erased_at) AS erased_at, count(*) AS versions, "
            "(array_agg(erased_by ORDER BY erased_at DESC))[1] AS erased_by, "
            "(array_agg(erase_reason ORDER BY erased_at DESC))[1] AS reason "
            "FROM personal_data_keys WHERE person_ref = $1",
            person_ref,
        )
        if not row["versions"]:
            return None
        log.info("personal data erased", extra={"person_ref": person_ref, "erased_by": row["erased_by"]})
        return Erasure(person_ref, row["erased_at"], row["erased_by"], row["reason"], row["versions"])

    async def rewrap(self, conn: AsyncConnection, *, limit: int = 1000) -> int:
        """Re-wrap up to `limit` live data keys under the first master key (rotation step 2 in
        docs/privacy.md); returns how many. Sealed values do not change."""
        db = await driver(conn)
        rows = await db.fetch(
            "SELECT person_ref, key_version, master_key_id, wrapped_key FROM personal_data_keys "
            "WHERE wrapped_key IS NOT NULL AND master_key_id <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
            self._current,
            limit,
        )
        for r in rows:
            data_key = self._unwrap(r["person_ref"], r["key_version"], r["master_key_id"], r["wrapped_key"])
            await db.execute(
                "UPDATE personal_data_keys SET master_key_id = $3, wrapped_key = $4 "
                "WHERE person_ref = $1 AND key_version = $2",
                r["person_ref"],
                r["key_version"],
                self._current,
                self._wrap(r["person_ref"], r["key_version"], data_key),
            )
        return len(rows)
