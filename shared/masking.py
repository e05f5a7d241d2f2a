"""Masks for personal data shown to someone who may know that it exists but not what it is,
in the shapes Chinese disclosure practice uses (110101********1234, 138****5678, 张*).

Pure functions; each keeps only what lets the person it belongs to recognise their record
(region, operator, surname, district) and masks the rest.
"""

from __future__ import annotations

import re

_STAR = "*"


def mask_id_number(value: str) -> str:
    """110101199003071234 -> 110101********1234: region and last four kept."""
    if len(value) >= 15:
        return value[:6] + _STAR * (len(value) - 10) + value[-4:]
    if len(value) > 8:
        return _STAR * (len(value) - 4) + value[-4:]
    return _STAR * len(value)


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678; 010-12345678 -> 010-****5678."""
    area, sep, number = value.rpartition("-")
    if sep:
        return f"{area}-{mask_phone_digits(number, keep_head=0)}"
    return mask_phone_digits(value, keep_head=3)


def mask_phone_digits(value: str, *, keep_head: int) -> str:
    if len(value) < 7:
        return _STAR * len(value)
    return value[:keep_head] + _STAR * (len(value) - keep_head - 4) + value[-4:]


def mask_name(value: str) -> str:
    """张三 -> 张*, 张三丰 -> 张**: the first character kept (the surname, mostly)."""
    if len(value) <= 1:
        return _STAR * len(value)
    return value[0] + _STAR * (len(value) - 1)


# Up to three of province, region, prefecture, city, league, then a district, county or banner.
_DIVISIONS = re.compile(r"^(?:.{0,8}?(?:省|自治区|自治州|市|州|盟)){0,3}(?:.{0,6}?(?:区|县|旗|市))?")


def mask_address(value: str) -> str:
    """北京市朝阳区建国路1号 -> 北京市朝阳区****: the administrative divisions kept, the rest masked."""
    match = _DIVISIONS.match(value)
    kept = match.group(0) if match else ""
    return kept + _STAR * 4 if len(kept) < len(value) else _STAR * 4
