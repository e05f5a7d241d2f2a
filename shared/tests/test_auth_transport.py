"""Transport security settings: PostgreSQL and Kafka TLS as the services build them."""

import asyncio
import contextlib
import ssl
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.db import create_engine
from shared.migrations import ensure_database
from shared.settings import ServiceSettings
from shared.testing.auth import ec_key


def test_without_sslmode_connections_stay_as_they_were():
    assert ServiceSettings().database_connect_args() == {}
    assert ServiceSettings(database_sslmode="disable").database_connect_args() == {}


def test_sslmode_maps_to_the_ssl_context_libpq_would_use(tmp_path):
    require = ServiceSettings(database_sslmode="require").database_ssl()
    assert (require.verify_mode, require.check_hostname) == (ssl.CERT_NONE, False)
    full = ServiceSettings(database_sslmode="verify-full").database_ssl()
    assert (full.verify_mode, full.check_hostname) == (ssl.CERT_REQUIRED, True)
    ca = ServiceSettings(database_sslmode="verify-ca").database_ssl()
    assert (ca.verify_mode, ca.check_hostname) == (ssl.CERT_REQUIRED, False)


def test_a_missing_root_certificate_stops_start_up_instead_of_connecting_unverified(tmp_path):
    settings = ServiceSettings(database_sslmode="verify-full", database_sslrootcert=tmp_path / "missing.pem")
    with pytest.raises(FileNotFoundError):
        settings.database_connect_args()


@contextlib.asynccontextmanager
async def over_tcp(server_url: str):
    """The session's PostgreSQL over TCP. The embedded one listens on a unix socket only, where
    TLS does not apply (libpq and asyncpg skip it); a byte pump on 127.0.0.1 lets PostgreSQL
    itself answer the client's SSLRequest."""
    url = make_url(server_url)
    socket_dir = url.query.get("host")
    if not socket_dir or not str(socket_dir).startswith("/"):
        yield server_url
        return
    sockets = await asyncio.to_thread(lambda: list(Path(str(socket_dir)).glob(".s.PGSQL.*")))
    socket_path = next(p for p in sockets if not p.name.endswith(".lock"))

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(str(socket_path))
        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer),
                             return_exceptions=True)

    server = await asyncio.start_server(forward, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield url.set(host="127.0.0.1", port=port, query={}).render_as_string(hide_password=False)
    finally:
        server.close()


async def test_sslmode_require_refuses_a_server_without_tls(make_settings, database_server_url):
    # This PostgreSQL has no TLS: the service must fail to connect, never fall back to plain text.
    async with over_tcp(database_server_url) as url:
        plain = create_engine(make_settings(database_url=url, database_name="postgres"))
        async with plain.connect() as conn:  # the path itself works without TLS
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        await plain.dispose()
        engine = create_engine(make_settings(database_url=url, database_sslmode="require",
                                             database_name="postgres"))
        try:
            with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
        with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
            await ensure_database(make_settings(database_url=url, database_sslmode="verify-full",
                                                database_name="nope"))


def test_kafka_scram_sha_512_over_tls_with_a_ca_and_a_client_certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = ec_key()
    private = serialization.load_pem_private_key(key.private_pem, None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fayuan-intake")])
    import datetime

    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(private, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "client.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "client.key").write_bytes(key.private_pem)
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="intake", kafka_sasl_password="secret",  # noqa: S106 - a test credential
        kafka_ssl_cafile=tmp_path / "ca.pem", kafka_ssl_certfile=tmp_path / "client.pem",
        kafka_ssl_keyfile=tmp_path / "client.key",
    )
    options = settings.kafka_security()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512" and options["sasl_plain_username"] == "intake"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509"] == 1  # the cluster CA, and only it
    with pytest.raises(ValueError, match="SCRAM-SHA-512"):
        ServiceSettings(kafka_sasl_mechanism="SCRAM-MD5")
