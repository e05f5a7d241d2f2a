"""docs/settings.md and .env.example say what the settings classes read, as the code declares it:
generated, never edited, every field described, every variable read under the name they give,
and no secret's value in either."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from shared.settings import ServiceSettings
from shared.settings_doc import env_names, is_secret, undocumented
from tests.docs.settings import ENV_EXAMPLE, REFERENCE, ROOT, documents, sections

REGENERATE = "make settings-doc"


@pytest.mark.parametrize("name", ["docs/settings.md", ".env.example"])
def test_the_committed_file_is_the_generated_one(name):
    committed = ROOT / name
    assert committed.exists(), f"{name} is missing: run `{REGENERATE}`"
    assert committed.read_text(encoding="utf-8") == documents()[committed], (
        f"{name} differs from the settings classes: run `{REGENERATE}` and review the diff")


def test_every_setting_has_a_description():
    missing = undocumented(sections())
    assert missing == [], f"give each of these fields a Field(description=...): {missing}"


def test_the_reference_does_not_depend_on_the_environment(monkeypatch):
    """Generated from the classes' declarations, never from an instance: a secret set where the
    command runs cannot end up in a committed file."""
    monkeypatch.setenv("FAYUAN_AUTH_DEV_SECRET", "a-leaked-dev-secret-0123456789")
    monkeypatch.setenv("FAYUAN_KAFKA_SASL_PASSWORD", "a-leaked-password-0123456789")
    monkeypatch.setenv("FAYUAN_PORT", "9999")
    fresh = documents()
    assert fresh == {REFERENCE: REFERENCE.read_text(encoding="utf-8"),
                     ENV_EXAMPLE: ENV_EXAMPLE.read_text(encoding="utf-8")}
    assert not any("a-leaked" in text for text in fresh.values())


def test_no_secret_value_is_written():
    texts = [REFERENCE.read_text(encoding="utf-8"), ENV_EXAMPLE.read_text(encoding="utf-8")]
    classes = [ServiceSettings, *(cls for _, cls in sections())]
    secrets = {(cls.__name__, name): field for cls in classes for name, field in cls.model_fields.items()
               if is_secret(field)}
    assert {"personal_data_master_keys", "auth_dev_secret", "kafka_sasl_password"} <= {n for _, n in secrets}
    for (owner, name), field in secrets.items():
        default = field.default.get_secret_value() if isinstance(field.default, SecretStr) else field.default
        if default:
            assert not any(default in text for text in texts), f"{owner}.{name}'s value is written"
        variable = env_names(name, field)[0]
        assigned = re.findall(rf"^# {variable}=(.*)$", texts[1], re.M)
        assert assigned and all(v.startswith("<") and v.endswith(">") for v in assigned), (variable, assigned)


def _blocks(text: str) -> dict[str, dict[str, str]]:
    """.env.example's variables per section (`# --- title (Class) ---`), as a shell would read
    them once uncommented."""
    blocks: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        heading = re.match(r"^# --- .* \((\w+)\) ---$", line)
        if heading:
            current = blocks.setdefault(heading.group(1), {})
        elif assignment := re.match(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", line):
            current[assignment.group(1)] = assignment.group(2)
    return blocks


@pytest.mark.parametrize("title,cls", sections(), ids=[title for title, _ in sections()])
def test_env_example_uncommented_gives_each_service_its_defaults(title, cls, monkeypatch):
    """Every variable .env.example names is one the service reads, and every value it shows, set
    in the environment, is the default again (lists as JSON, booleans as true/false)."""
    blocks = _blocks(ENV_EXAMPLE.read_text(encoding="utf-8"))
    given = {**blocks["ServiceSettings"], **blocks[cls.__name__]}
    for name in list(given):
        if given[name].startswith("<"):  # a secret's placeholder
            del given[name]
        else:
            monkeypatch.setenv(name, given[name])
    read = {env_names(name, field)[0]: name for name, field in cls.model_fields.items()}
    assert set(given) <= set(read), f"variables no field reads: {set(given) - set(read)}"
    from_environment, defaults = cls(), cls.model_construct()
    for variable, name in read.items():
        assert getattr(from_environment, name) == getattr(defaults, name), variable
    # ...and the environment was indeed read: a value other than the default shows.
    monkeypatch.setenv("FAYUAN_MAX_BODY_BYTES", "1234")
    assert cls().max_body_bytes == 1234
