"""The people of a case (pure): the aided person and the adverse parties, whose data stays in
intake's store, and what their ID numbers tell (a minor, R-ASG-8)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class AidedPerson(BaseModel):
    """受援人. Personal data: stays in intake's store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(pattern=r"^\d{17}[\dX]$", description="Resident ID number (18 characters)")
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    address: str | None = Field(default=None, max_length=200)


class AdverseParty(BaseModel):
    """对方当事人. Personal data: stays in intake's store; others see only a keyed hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, min_length=1, max_length=50,
                                  description="ID number, or unified social credit code of an organisation")


def birth_date(id_number: str) -> date | None:
    """The birth date a resident ID number carries (characters 7-14), if it is a real date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def is_minor(id_number: str, on: date) -> bool:
    """Under 18 on that day (R-ASG-8). An ID number without a real birth date tells nothing."""
    born = birth_date(id_number)
    if born is None:
        return False
    return (on.year - born.year - ((on.month, on.day) < (born.month, born.day))) < 18
