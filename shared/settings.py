"""Settings from the environment, one prefix (FAYUAN_), one class per service on a common base.

`DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS` are also read without the prefix, because that is
what operators and CI already export. The URL names a *server*; each service keeps its own
database on it (`database_name`), so one URL serves all five services.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PREFIX = "FAYUAN_"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", env_ignore_empty=True,
                                      populate_by_name=True)

    service_name: str = Field(
        default="fayuan",
        description="The service's name: in its logs, its events' CloudEvents source, its consumers' "
                    "names and its relay's epoch topic; each service sets its own")
    host: str = Field(default="127.0.0.1",
                      description="Address the HTTP server listens on (0.0.0.0 in a container)")
    port: int = Field(default=8000, description="Port the HTTP server listens on; each service has its own")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        validation_alias=AliasChoices("FAYUAN_DATABASE_URL", "DATABASE_URL"),
        description="URL of the PostgreSQL server; the database part is replaced by database_name, so "
                    "one URL serves all five services. A password in it comes from a Secret",
    )
    database_name: str = Field(
        default="",
        description="The service's own database on that server (created by `migrate`); empty: the URL's")
    # Per service: pool_size connections kept, as many again under bursts. Each PostgreSQL backend
    # costs memory; one process of a service rarely has more than a few statements in flight.
    database_pool_size: int = Field(
        default=5, description="Connections each process keeps to PostgreSQL; as many again are opened "
                               "under bursts")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("FAYUAN_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
        description="The brokers to start from, host:port, comma-separated",
    )
    # Tansu refuses idempotent producers (design.md §5); Apache Kafka in production turns it on.
    kafka_enable_idempotence: bool = Field(
        default=False, description="Idempotent producer: true on Apache Kafka (production); the "
                                   "embedded development broker (Tansu) refuses it")
    kafka_acks: str = Field(
        default="all", description="Acknowledgements the relay waits for: 0, 1 or all (all replicas in sync)")
    # Apache Kafka answers a fetch as soon as a message arrives; the embedded broker (Tansu) holds
    # every fetch for its whole wait, which aiokafka's default (500 ms) turned into some 200 ms per
    # consumer hop (docs/benchmarks.md, "From a failed evaluation to its notice"). Shorter waits
    # cost the idle stack CPU: every idle consumer fetches this often (50 ms: some 0.15 cores more).
    kafka_fetch_max_wait_ms: int = Field(
        default=100, ge=1, le=500,
        description="Longest, in ms, the broker may hold a consumer's fetch while nothing new has come "
                    "(Apache Kafka answers at once when a message arrives; the embedded broker waits this "
                    "long on every fetch, so it bounds each consumer hop's added latency there)")
    topic_prefix: str = Field(
        default="", description="Prepended to every topic and consumer group, so several stacks can "
                                "share one broker (tests)")
    kafka_create_topics: bool = Field(
        default=True, description="Create the service's topics at start-up (dev, tests); false where "
                                  "the topics are declared elsewhere (Strimzi KafkaTopics in production)")
    kafka_security_protocol: str = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (production: "
                                         "SASL_SSL, TLS with SCRAM)")
    kafka_sasl_mechanism: str | None = Field(
        default=None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; none: no SASL")
    kafka_sasl_username: str | None = Field(default=None, description="The service's Kafka user (SASL)")
    kafka_sasl_password: str | None = Field(
        default=None, description="That user's password (SASL), from a Secret",
        json_schema_extra={"secret": True})
    # TLS towards the brokers (SSL or SASL_SSL): the cluster CA, and a client certificate when
    # the listener authenticates clients by certificate (mTLS) instead of SCRAM.
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA certificate (PEM) the brokers' certificates are checked against "
                                  "(SSL, SASL_SSL); none: the system's")
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate (PEM), where the listener authenticates clients "
                                  "by certificate (mTLS) instead of SCRAM")
    kafka_ssl_keyfile: Path | None = Field(default=None,
                                           description="The client certificate's private key (PEM)")

    # PostgreSQL TLS, libpq's names and meanings (docs/security.md). None: a plain connection.
    database_sslmode: Literal["disable", "require", "verify-ca", "verify-full"] | None = Field(
        default=None, description="TLS to PostgreSQL, as libpq's sslmode: require encrypts, verify-ca "
                                  "also checks the chain, verify-full also the host name; none: plain")
    database_sslrootcert: Path | None = Field(
        default=None, description="CA certificate (PEM) the server's certificate is checked against")
    database_sslcert: Path | None = Field(
        default=None, description="Client certificate (PEM), where the server authenticates clients by "
                                  "certificate")
    database_sslkey: Path | None = Field(default=None,
                                         description="The client certificate's private key (PEM)")

    # Authentication (docs/security.md). "dev" is the only environment that accepts HS256
    # tokens signed with auth_dev_secret; everything else needs the identity provider's keys.
    environment: Literal["dev", "test", "prod"] = Field(
        default="prod", description="dev, test or prod: dev alone accepts HS256 tokens signed with "
                                    "auth_dev_secret, and intake's development hash key")
    auth_issuer: str = Field(
        default="https://id.legalaid.example/", description="The identity provider's issuer (`iss`) "
                                                            "that tokens must carry")
    auth_audience: str = Field(default="fayuan", description="The audience (`aud`) that tokens must carry")
    auth_public_keys: str | None = Field(
        default=None, description="PEM text of one or more of the identity provider's public keys "
                                  "(RSA or P-256)")
    auth_jwks_file: Path | None = Field(
        default=None, description="The identity provider's JWKS document, as a file")
    auth_jwks_url: str | None = Field(
        default=None,
        description="The identity provider's JWKS URL (https when environment=prod): its signing keys are "
                    "fetched from there, cached, and fetched again when a token names an unknown kid, "
                    "so a key rotation needs no restart. The static keys (auth_jwks_file, "
                    "auth_public_keys) are still used beside it, or instead of it on an air-gapped site",
    )
    auth_jwks_cache_seconds: float = Field(
        default=300.0, gt=0,
        description="How long a fetched JWKS is used before it is fetched again (when a token needs it)",
    )
    auth_jwks_refetch_seconds: float = Field(
        default=10.0, ge=0,
        description="Least time between two fetches of the JWKS, and between two attempts while the "
                    "identity provider does not answer: tokens naming unknown key ids cannot make the "
                    "service fetch more often than this",
    )
    auth_jwks_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Timeout of one fetch of the JWKS",
    )
    auth_dev_secret: str | None = Field(
        default=None, description="HS256 secret of dev tokens (`make token`); read in environment=dev "
                                  "only", json_schema_extra={"secret": True})
    auth_leeway_seconds: float = Field(
        default=30.0, description="Clock skew tolerated on a token's exp, nbf and iat, in seconds")
    trusted_proxies: str = Field(
        default="", description="Addresses or networks (comma-separated) of reverse proxies whose "
                                "X-Forwarded-For is believed for the caller's address")

    # HTTP hardening: HSTS only when TLS is terminated in front of the service; CORS closed
    # unless origins are listed (comma-separated); request bodies above the limit get 413.
    tls_terminated: bool = Field(
        default=False, description="TLS ends in front of the service (the ingress): answers carry "
                                   "Strict-Transport-Security")
    cors_allowed_origins: str = Field(
        default="", description="Origins (comma-separated) allowed to call from a browser; empty: CORS "
                                "closed")
    # Where the Gateway serves this service's /docs from outside (deploy/k8s/base/gateway/
    # routes-docs.yaml): a setting, never a request header a client could forge into the page.
    public_docs_prefix: str = Field(
        default="",
        description="Path under which the Gateway serves this service's Swagger UI and documents from "
                    "outside, stripping it (e.g. /api-docs/intake): the /docs page asks for its script, "
                    "stylesheet and document under it. Empty: under the ASGI root path, if any. An ASGI "
                    "root path wins over it; no request header ever sets it",
        examples=["/api-docs/intake"])
    max_body_bytes: int = Field(
        default=1024 * 1024, description="Largest request body accepted, in bytes; a larger one gets 413")
    public_rate_limit: str = Field(
        default="60/minute",
        description="Requests one client address may make to a service's public endpoints (those that "
                    "admit callers without a token), e.g. '60/minute' or '10/second;300/hour'; a moving "
                    "window kept in the memory of each process. 429 with Retry-After beyond it",
    )
    # Idempotency-Key on every POST (shared/idempotency.py, docs/reliability.md "Idempotency").
    idempotency_key_hours: float = Field(
        default=24.0, gt=0,
        description="How long a POST's Idempotency-Key and its first answer are kept (a retry within it "
                    "answers the same); older keys are purged")
    idempotency_purge_seconds: float = Field(
        default=3600.0, ge=0,
        description="How often, in seconds, the service purges the Idempotency-Keys older than "
                    "idempotency_key_hours. 0: never by itself")
    idempotency_in_flight_seconds: float = Field(
        default=60.0, gt=0,
        description="How long a request with an Idempotency-Key may run before the same key is taken as "
                    "left behind (its process died) and runs again; until then the same key is a 409")


    # The broker is watched, not a readiness condition: the outbox keeps writes going while it is
    # away (docs/operations.md, "Readiness and broker health").
    broker_check_seconds: float = Field(
        default=10.0, ge=0,
        description="How often the service checks that the Kafka broker answers (one long-lived client "
                    "per process): the fayuan_broker_up gauge and /readyz's broker field. 0: not checked",
    )
    broker_check_timeout_seconds: float = Field(
        default=3.0, gt=0, description="How long one check of the broker may take before it counts as down",
    )

    relay_enabled: bool = Field(
        default=True, description="Run the outbox relay (publishes the service's events to Kafka) in "
                                  "this process")
    relay_batch_size: int = Field(default=500, description="Outbox rows the relay publishes per batch")
    relay_poll_seconds: float = Field(
        default=0.025, gt=0, description="Longest pause of the relay, in seconds, after a batch that was not "
                                         "full (a commit of this process wakes it sooner)")
    relay_nudge_gap_seconds: float = Field(
        default=0.01, ge=0, description="Shortest time, in seconds, from one batch of the relay to the "
                                        "next when commits wake it: under load a batch gathers that long's "
                                        "commits")
    relay_epoch_check_seconds: float = Field(
        default=3.0, description="How often, in seconds, the relay checks that the broker still has "
                                 "what it published (an emptied broker gets the outbox again)")

    outbox_retention_days: float = Field(
        default=30, gt=0, description="Days a published outbox row is kept before the purge deletes it. "
        "A broker that comes back empty gets this much history again (integration topics keep 30 days)")
    inbox_retention_days: float = Field(
        default=400, gt=0, description="Days a consumer remembers an event it handled (its inbox row), so a "
        "redelivery is recognised. Must outlast every redelivery: the longest retention of a topic the "
        "service consumes (365 days for the bar association's outcomes) and outbox_retention_days")
    purge_interval_seconds: float = Field(
        default=3600, ge=0, description="How often the service purges outbox rows it published and inbox "
        "rows past their retention. 0: never (operators then purge from a scheduler)")

    consumers_enabled: bool = Field(
        default=True, description="Run the service's consumers of other services' events in this process")
    consumer_max_retries: int = Field(
        default=3, description="Retries of a message that fails before it goes to its dead-letter topic")
    consumer_retry_backoff_seconds: float = Field(
        default=0.2, description="First pause between retries, in seconds; doubled at each retry")
    consumer_batch_size: int = Field(
        default=200, description="Most messages a consumer handles in one database transaction (a "
                                 "batch: one inbox insert, one commit, then the offsets)")
    consumer_batch_wait_seconds: float = Field(
        default=0.2, description="Longest a consumer waits, in seconds, for messages when none have "
                                 "arrived; what has arrived is handled at once, up to consumer_batch_size")
    consumer_redrive_check_seconds: float = Field(
        default=2.0, description="How often, in seconds, a consumer looks for dead letters an operator "
                                 "asked to re-drive or discard (`redrive`, `discard`); 0: never")

    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=True, description="One JSON object per log line (false: text for people)")

    # Tracing with OpenTelemetry (shared/tracing.py, docs/operations.md "Tracing").
    tracing_enabled: bool = Field(
        default=False,
        description="Make OpenTelemetry spans (HTTP requests, commands, relay, consumers) and carry W3C "
                    "trace context in HTTP and in every CloudEvent (ce_traceparent); off: no tracer, "
                    "no span, no header",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FAYUAN_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="Base URL of the collector's OTLP/HTTP receiver (e.g. http://otel-collector:4318; "
                    "/v1/traces is appended); unset: spans are made and propagated but not exported",
    )
    tracing_sample_ratio: float = Field(
        default=1.0, ge=0.0, le=1.0,
        description="Share of the traces that start in this service which are recorded; a caller's "
                    "traceparent decides for the traces it starts",
    )

    # Personal data of aided persons (docs/privacy.md). Master keys wrap the per-person data
    # keys: "id:base64-of-32-bytes", comma-separated, the first wraps new keys, the others
    # still unwrap what they wrapped (rotation). The reference key makes a person's pseudonym
    # (person_ref) from their ID number; it must never change. Both come from a Secret in
    # production; empty means the service holds no personal data (all but intake).
    personal_data_master_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Master keys that wrap each aided person's data key: `id:base64-of-32-bytes`, "
                    "comma-separated; the first wraps new keys, the others still unwrap (rotation). "
                    "From a Secret; intake only (docs/privacy.md)",
        examples=["<key-id>:<base64 of 32 random bytes>"])
    personal_data_ref_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key (base64 of 32 bytes) that makes an aided person's pseudonym from their ID "
                    "number; must never change. From a Secret; intake only (docs/privacy.md)",
        examples=["<base64 of 32 random bytes>"])

    @field_validator("kafka_acks")
    @classmethod
    def _acks(cls, value: str) -> str:
        if value not in {"0", "1", "all"}:
            raise ValueError("kafka_acks must be 0, 1 or all")
        return value

    @field_validator("kafka_sasl_mechanism")
    @classmethod
    def _mechanism(cls, value: str | None) -> str | None:
        if value not in {None, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}:
            raise ValueError("kafka_sasl_mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
        return value

    @field_validator("public_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # ValueError on anything but "<count>/<period>[;...]"
        return value

    @model_validator(mode="after")
    def _inbox_outlasts_outbox(self) -> ServiceSettings:
        # A relay re-sends what its outbox still holds when the broker comes back empty; an
        # event re-sent after its consumer forgot it would be applied twice.
        if self.inbox_retention_days < self.outbox_retention_days:
            raise ValueError("inbox_retention_days must be at least outbox_retention_days")
        return self

    @model_validator(mode="after")
    def _jwks_over_tls(self) -> ServiceSettings:
        # The JWKS decides whose tokens are believed: fetched in clear, anyone on the path could
        # substitute their own key.
        url = self.auth_jwks_url
        if url is not None:
            scheme = urlsplit(url).scheme
            if scheme not in {"http", "https"}:
                raise ValueError("auth_jwks_url must be an http(s) URL")
            if scheme == "http" and self.environment == "prod":
                raise ValueError("auth_jwks_url must be https in environment=prod")
        return self

    @field_validator("public_docs_prefix")
    @classmethod
    def _docs_prefix(cls, value: str) -> str:
        # It is written into the docs page's HTML and script: path segments of plain characters only.
        value = value.rstrip("/")
        if not re.fullmatch(r"(?:/[A-Za-z0-9._~-]+)*", value) or any(
                part in {".", ".."} for part in value.split("/")):
            raise ValueError("public_docs_prefix must be empty or a path like /api-docs/intake")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        [ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip()]
        return value

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p.strip(), strict=False)
                for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    def database_ssl(self) -> ssl.SSLContext | None:
        """The TLS context of every connection to PostgreSQL, after libpq's sslmode: `require`
        encrypts without checking the server (unless a root certificate is given, as libpq does),
        `verify-ca` checks the chain, `verify-full` also the host name."""
        mode = self.database_sslmode
        if mode in (None, "disable"):
            return None
        ctx = ssl.create_default_context(
            cafile=str(self.database_sslrootcert) if self.database_sslrootcert else None
        )
        if mode == "require" and not self.database_sslrootcert:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif mode in ("require", "verify-ca"):
            ctx.check_hostname = False
        if self.database_sslcert:
            ctx.load_cert_chain(str(self.database_sslcert),
                                str(self.database_sslkey) if self.database_sslkey else None)
        return ctx

    def database_connect_args(self) -> dict[str, object]:
        """asyncpg's connect arguments: an SSLContext makes TLS mandatory (no plain fallback)."""
        ctx = self.database_ssl()
        return {"ssl": ctx} if ctx is not None else {}

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The service's own database, through the asyncpg driver."""
        url = make_url(self.database_url).set(drivername="postgresql+asyncpg")
        if self.database_name:
            url = url.set(database=self.database_name)
        return url.render_as_string(hide_password=False)

    def kafka_security(self) -> dict[str, object]:
        """Connection settings shared by every Kafka client of the service."""
        options: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            options |= {
                "sasl_mechanism": self.kafka_sasl_mechanism,
                "sasl_plain_username": self.kafka_sasl_username,
                "sasl_plain_password": self.kafka_sasl_password,
            }
        if self.kafka_security_protocol in {"SSL", "SASL_SSL"}:
            # aiokafka ships no type information (no py.typed, no stubs).
            from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]

            options["ssl_context"] = create_ssl_context(
                cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None,
                certfile=str(self.kafka_ssl_certfile) if self.kafka_ssl_certfile else None,
                keyfile=str(self.kafka_ssl_keyfile) if self.kafka_ssl_keyfile else None,
            )
        return options

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
