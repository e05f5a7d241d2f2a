"""Find seeded personal data in what a flow produced: events, log lines, exports.

A leak rarely looks like the value itself: JSON writers escape Chinese as \\uXXXX, URLs
percent-encode it, a payload may be base64, an XLSX is a zip of XML, a CSV for Excel is often
GB18030. `scan` looks for every needle in each of those forms. A masked form (张*, 138****5678)
is not the needle, so it is not a hit.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

MIN_NEEDLE = 2
# A base64 fragment shorter than this matches random base64 too often to mean anything.
MIN_BASE64_FRAGMENT = 8


@dataclass(frozen=True)
class Hit:
    source: str
    needle: str
    encoding: str

    def __str__(self) -> str:
        # The needle itself stays out of the report: a failing test's output is a log too.
        return f"{self.source}: seeded personal data ({self.encoding}, {len(self.needle)} chars)"


def _base64_fragments(value: bytes) -> set[str]:
    """The characters that `value` always encodes to inside any base64 text, whatever its
    alignment there (three byte offsets), standard and URL-safe alphabets."""
    out = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + value).decode()
        start = -(-8 * pad // 6)
        end = 8 * (pad + len(value)) // 6
        fragment = encoded[start:end]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            out |= {fragment, fragment.replace("+", "-").replace("/", "_")}
    return out


def encodings(needle: str) -> dict[str, str]:
    """Every textual form of `needle` to look for, by the name of its encoding."""
    forms: dict[str, str] = {"plain": needle}
    escaped = json.dumps(needle)[1:-1]
    if escaped != needle:
        forms["json-escaped"] = escaped
        forms["json-escaped-upper"] = re.sub(
            r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped
        )
    for name, encoded in (("url-encoded", quote(needle, safe="")), ("form-encoded", quote_plus(needle))):
        if encoded != needle:
            forms[name] = encoded
            if encoded.lower() != encoded:
                forms[name + "-lower"] = encoded.lower()
    if not needle.isascii():
        forms["xml-charref"] = "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in needle)
        forms["xml-charref-hex"] = "".join(f"&#x{ord(c):x};" if ord(c) > 127 else c for c in needle)
    if needle.isascii() and needle.upper() != needle.lower():
        forms["upper"], forms["lower"] = needle.upper(), needle.lower()
    digits = needle.removeprefix("+86")
    if len(digits) == 11 and digits.isdigit():  # a mobile number as people write it
        forms["spaced"] = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        forms["hyphenated"] = f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    for n, fragment in enumerate(sorted(_base64_fragments(needle.encode()))):
        forms[f"base64#{n}"] = fragment
    return forms


def texts_of(name: str, content: str | bytes) -> list[tuple[str, str]]:
    """(source, text) pairs of one produced artefact: a zip (XLSX) is opened member by member,
    bytes are read as UTF-8 and as GB18030."""
    if isinstance(content, str):
        return [(name, content)]
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [
                pair
                for member in archive.namelist()
                for pair in texts_of(f"{name}!{member}", archive.read(member))
            ]
    texts = [(name, content.decode("utf-8", errors="replace"))]
    gb = content.decode("gb18030", errors="replace")
    if gb != texts[0][1]:
        texts.append((f"{name} (gb18030)", gb))
    return texts


def scan(texts: Mapping[str, str | bytes] | Iterable[str | bytes], needles: Iterable[str]) -> list[Hit]:
    """Every (source, needle, encoding) found. `texts` maps a source's name to its content (or
    is a plain list, named by position)."""
    items = texts.items() if isinstance(texts, Mapping) else ((f"#{n}", t) for n, t in enumerate(texts))
    forms = {}
    for needle in needles:
        if len(needle) < MIN_NEEDLE:
            raise ValueError("a needle shorter than two characters would match anything")
        forms[needle] = encodings(needle)
    hits = []
    for name, content in items:
        for source, text in texts_of(name, content):
            for needle, by_encoding in forms.items():
                for encoding, form in by_encoding.items():
                    if form in text:
                        hits.append(Hit(source, needle, encoding))
                        break
    return hits
