"""Bounded, well-formed input for personal data: Pydantic-annotated types for a request body.

Each type normalises what a clerk types (spaces, a lower-case x, a +86 prefix) and rejects the
rest with a message that names the wrong part. No message repeats the value: a validation
problem goes back in the response and may be logged, and the value is personal data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

# GB 11643-1999: the check character is ISO 7064 MOD 11-2 over the first 17 digits.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# First two digits: the province-level division (GB/T 2260), 81-83 for residence permits of
# Hong Kong, Macao and Taiwan residents. A leading 9 is the 2023 permanent residence card of
# foreigners, which keeps the same birth date and check character.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
EARLIEST_BIRTH = date(1900, 1, 1)
# Anything longer than this is not worth looking at character by character.
_SCAN_LIMIT = 64

NAME_MAX = 50
ADDRESS_MAX = 200


def id_check_char(first17: str) -> str:
    """The check character of the 17 leading digits of a resident ID number."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _as_str(value: object) -> object:
    # Numbers are refused rather than coerced: an ID number as a JSON number has already lost
    # its leading zeros or its X.
    return value.strip() if isinstance(value, str) else value


def resident_id_number(value: str) -> str:
    """The normalised ID number (upper-case X), or ValueError naming the wrong part."""
    if len(value) != 18:
        raise ValueError("a resident ID number has 18 characters")
    value = value.upper()
    if not value[:17].isascii() or not value[:17].isdigit():
        raise ValueError("the first 17 characters of a resident ID number are digits")
    if value[17] not in "0123456789X":
        raise ValueError("the last character of a resident ID number is a digit or X")
    if value[0] != "9" and int(value[:2]) not in PROVINCES:
        raise ValueError("the region code (first 6 digits) of the resident ID number names no province")
    try:
        born = birth_date(value)
    except ValueError:
        raise ValueError("the birth date (digits 7 to 14) of the resident ID number is not a date") from None
    if not EARLIEST_BIRTH <= born <= date.today():
        raise ValueError("the birth date (digits 7 to 14) of the resident ID number is out of range")
    if id_check_char(value[:17]) != value[17]:
        raise ValueError(
            "the check character (last) of the resident ID number does not match the other digits"
        )
    return value


def birth_date(id_number: str) -> date:
    """The date of birth written in digits 7 to 14 of an 18-character ID number."""
    digits = id_number[6:14]
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(0[1-9]\d{1,2})-([2-9]\d{6,7})")


def mobile_phone(value: str) -> str:
    """A mainland mobile number as its 11 digits (a +86 or 0086 prefix and separators dropped)."""
    if len(value) > _SCAN_LIMIT:
        raise ValueError("a mobile phone number has 11 digits")
    digits = _PHONE_SEPARATORS.sub("", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not digits.isascii() or not digits.isdigit() or len(digits) != 11:
        raise ValueError("a mobile phone number has 11 digits (optionally after +86)")
    if not _MOBILE.fullmatch(digits):
        raise ValueError("a mobile phone number starts with 13 to 19")
    return digits


def landline(value: str) -> str:
    """A mainland landline as `area-number` (e.g. 010-12345678): a 3- or 4-digit area code
    starting with 0, then 7 or 8 digits; a space between them is accepted."""
    if len(value) > _SCAN_LIMIT:
        raise ValueError("a landline number is an area code and 7 or 8 digits")
    match = _LANDLINE.fullmatch(re.sub(r"\s+", "-", value))
    if not match or len(match.group(1)) + len(match.group(2)) > 12:
        raise ValueError("a landline number is an area code starting with 0, a hyphen, then 7 or 8 digits")
    return f"{match.group(1)}-{match.group(2)}"


def bounded_text(max_length: int, what: str = "the text") -> Callable[[str], str]:
    """A validator for free text: NFC, stripped, 1..max_length characters, no control
    characters (they hide in logs and break exports)."""

    def check(value: str) -> str:
        # NFC changes a length by a small factor at most: refuse a huge text before the work.
        if len(value) > 4 * max_length:
            raise ValueError(f"{what} has at most {max_length} characters")
        value = unicodedata.normalize("NFC", value)
        if not value:
            raise ValueError(f"{what} must not be empty")
        if len(value) > max_length:
            raise ValueError(f"{what} has at most {max_length} characters")
        if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in value):
            raise ValueError(f"{what} must not contain control or unassigned characters")
        return value

    return check


def one_line(value: str) -> str:
    """A name or a title: one line, no control character (tab, line feed and carriage return
    included), so that it shows whole in a list, a spreadsheet cell or a notice."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be one line, without tabs, line breaks or other control characters")
    return value


# A name of an institution, a handler, a reviewer (shared.input_guard refuses the other control
# characters in every text; a name refuses tabs and line breaks too).
OneLine = Annotated[str, AfterValidator(one_line)]


def _schema(description: str, **extra: object) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": description, **extra})


ResidentIdNumber = Annotated[
    str,
    BeforeValidator(_as_str),
    AfterValidator(resident_id_number),
    _schema(
        "Resident ID number (GB 11643-1999): 17 digits and a check character (digit or X)",
        pattern=r"^\d{17}[\dXx]$",
        minLength=18,
        maxLength=18,
    ),
]
MobilePhone = Annotated[
    str,
    BeforeValidator(_as_str),
    AfterValidator(mobile_phone),
    _schema("Mainland mobile number, 11 digits starting 13-19; a +86 prefix is accepted", maxLength=20),
]
Landline = Annotated[
    str,
    BeforeValidator(_as_str),
    AfterValidator(landline),
    _schema("Mainland landline: area code, hyphen, 7 or 8 digits (010-12345678)", maxLength=20),
]
PersonName = Annotated[
    str,
    BeforeValidator(_as_str),
    AfterValidator(bounded_text(NAME_MAX, "a name")),
    _schema("A person's name", minLength=1, maxLength=NAME_MAX),
]
Address = Annotated[
    str,
    BeforeValidator(_as_str),
    AfterValidator(bounded_text(ADDRESS_MAX, "an address")),
    _schema("A postal address", minLength=1, maxLength=ADDRESS_MAX),
]
