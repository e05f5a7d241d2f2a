"""The settings reference, written from the settings classes themselves: docs/settings.md (a
table per class: the kernel's ServiceSettings, then what each service adds or sets otherwise) and
`.env.example`. Every name, type, default and description comes from the fields (their
`Field(description=...)`), so the reference cannot drift from the code; a secret's value is never
written, only a placeholder (a field is secret when it is a SecretStr or says
`json_schema_extra={"secret": True}`).

The kernel imports no service: tests/docs/settings.py hands these functions the five services'
classes and writes the files (`make settings-doc`).
"""

from __future__ import annotations

import enum
import json
import textwrap
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo

from shared.settings import PREFIX, ServiceSettings

Section = tuple[str, type[ServiceSettings]]


def env_names(name: str, field: FieldInfo) -> list[str]:
    """The environment variables a field is read from, the preferred one first."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"{PREFIX}{name.upper()}"]


def is_secret(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return field.annotation is SecretStr or (isinstance(extra, dict) and extra.get("secret") is True)


def type_name(annotation: Any) -> str:
    """A field's type in an operator's words."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        named = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(named) < len(typing.get_args(annotation))
        inner = " or ".join(type_name(a) for a in named)
        return f"{inner}, optional" if optional else inner
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    if origin in (list, tuple, set, frozenset):
        (item,) = typing.get_args(annotation)[:1] or (str,)
        return f"JSON list, each {type_name(item)}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    names = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "file path",
             SecretStr: "secret string"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(field: FieldInfo) -> str:
    words = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            words.append(f"≥ {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            words.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"≤ {item.le}")
        elif isinstance(item, annotated_types.Lt):
            words.append(f"< {item.lt}")
    return f" ({', '.join(words)})" if words else ""


def env_value(value: Any) -> str:
    """A value as the environment gives it (pydantic-settings reads lists as JSON)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return json.dumps([env_value(v) for v in value])
    if isinstance(value, dict):  # read as JSON too, not as Python's repr
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def default_text(field: FieldInfo) -> str:
    if is_secret(field):
        return "*(empty)*" if not env_value(field.default) else "*(set, not shown)*"
    value = env_value(field.default)
    return f"`{value}`" if value else ("*(none)*" if field.default is None else "*(empty)*")


def own_fields(cls: type[ServiceSettings], base: type[ServiceSettings] | None) -> dict[str, FieldInfo]:
    """The fields `cls` adds to `base`, or whose default it changes; all of them without a base."""
    if base is None:
        return dict(cls.model_fields)
    inherited = base.model_fields
    return {name: field for name, field in cls.model_fields.items()
            if name not in inherited or field.default != inherited[name].default}


def description(name: str, field: FieldInfo, base: type[ServiceSettings] | None) -> str:
    """The field's description; a default a service changes keeps the kernel's description."""
    if field.description:
        return field.description
    if base is not None and name in base.model_fields:
        return base.model_fields[name].description or ""
    return ""


def undocumented(sections: Sequence[Section], base: type[ServiceSettings] = ServiceSettings) -> list[str]:
    """`Class.field` of every field the reference would show without a description."""
    missing = []
    for cls in [base, *(cls for _, cls in sections)]:
        parent = None if cls is base else base
        for name, field in own_fields(cls, parent).items():
            if not description(name, field, parent):
                missing.append(f"{cls.__name__}.{name}")
    return missing


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def table(cls: type[ServiceSettings], base: type[ServiceSettings] | None) -> str:
    lines = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, field in own_fields(cls, base).items():
        names = " or ".join(f"`{n}`" for n in env_names(name, field))
        kind = type_name(field.annotation) + _bounds(field)
        if is_secret(field) and field.annotation is not SecretStr:
            kind += ", secret"
        lines.append(f"| {names} | {_escape(kind)} | {_escape(default_text(field))} | "
                     f"{_escape(description(name, field, base))} |")
    return "\n".join(lines) + "\n"


REGENERATE = ".venv/bin/python -m tests.docs.settings --write"

INTRO = f"""\
# Settings reference

Generated from the settings classes by `make settings-doc` (`{REGENERATE}`);
tests/docs/test_settings.py fails when this page or `.env.example` differs from the code. Do not
edit by hand: change the field's `Field(description=...)` and regenerate.

Every service reads its settings from environment variables with the prefix `{PREFIX}` (a
`.env` file is not read: the environment is the container's, or the shell's). `DATABASE_URL`
and `KAFKA_BOOTSTRAP_SERVERS` are also read without the prefix. A list is given as JSON
(`["criminal"]`). Secrets (marked so below) come from a Kubernetes Secret in production and are
never written here. `.env.example` at the repository's root lists every variable, commented out
at its default, secrets as placeholders: copy it to `.env`, uncomment what you change, and export
it into the shell that starts a service (`set -a; . ./.env; set +a`).
"""


def reference(sections: Sequence[Section], base: type[ServiceSettings] = ServiceSettings) -> str:
    """docs/settings.md: the base class's table, then one per service (`sections`: title, class)."""
    parts = [INTRO, f"## Every service ({base.__name__})\n\n{table(base, None)}"]
    for title, cls in sections:
        parts.append(f"## {title} ({cls.__name__})\n\n"
                     f"What {title} adds to the table above, or sets otherwise:\n\n{table(cls, base)}")
    secrets = sorted(n for cls in [base, *(c for _, c in sections)]
                     for name, f in cls.model_fields.items() if is_secret(f)
                     for n in env_names(name, f)[:1])
    parts.append("## Secrets\n\n" + "".join(f"- `{n}`\n" for n in dict.fromkeys(secrets)))
    return "\n".join(parts)


def _placeholder(field: FieldInfo) -> str:
    examples = field.examples or []
    return str(examples[0]) if examples else "<secret>"


def _wrap(text: str, width: int = 98) -> list[str]:
    return [f"# {line}" for line in textwrap.wrap(text, width=width - 2)]


def _env_lines(cls: type[ServiceSettings], base: type[ServiceSettings] | None) -> list[str]:
    lines: list[str] = []
    for name, field in own_fields(cls, base).items():
        variable = env_names(name, field)[0]
        lines += _wrap(description(name, field, base))
        value = _placeholder(field) if is_secret(field) else env_value(field.default)
        lines.append(f"# {variable}={value}")
        lines.append("")
    return lines


def env_example(sections: Sequence[Section], base: type[ServiceSettings] = ServiceSettings) -> str:
    """`.env.example`: every variable, commented out, at its default; secrets as placeholders."""
    lines = [
        f"# Fayuan's settings, generated by `make settings-doc` ({REGENERATE});",
        "# docs/settings.md explains each. Every line is commented out at its default: uncomment what",
        "# you change. Secrets are placeholders, never values: take them from a Secret.",
        "",
        f"# --- every service ({base.__name__}) ---",
        "",
        *_env_lines(base, None),
    ]
    for title, cls in sections:
        lines += [f"# --- {title} ({cls.__name__}) ---", "", *_env_lines(cls, base)]
    return "\n".join(lines).rstrip("\n") + "\n"
