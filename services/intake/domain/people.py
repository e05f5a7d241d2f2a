"""The people of a case (pure): the aided person and the adverse parties as the agency types them
in, what their ID numbers tell (a minor, R-ASG-8), and the sealed form in which they are recorded
(docs/privacy.md): a person's values never enter an event or a table, only their tokens."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.validation import Address, MobilePhone, PersonName, ResidentIdNumber, birth_date

# What the vault seals of an aided person, in this order (the masks and the read audit name them).
AIDED_PERSON_FIELDS = ("name", "id_number", "phone", "address")


class AidedPerson(BaseModel):
    """受援人, as the agency types it in: validated (the ID number's check character too), then
    sealed before anything is recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: PersonName
    id_number: ResidentIdNumber
    phone: MobilePhone | None = None
    address: Address | None = None


class AdverseParty(BaseModel):
    """对方当事人. Sealed like the aided person; others see only a keyed hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, min_length=1, max_length=50,
                                  description="ID number, or unified social credit code of an organisation")


class SealedPerson(BaseModel):
    """A person as intake records them: their pseudonym (`person_ref`, a keyed HMAC of the ID
    number) and one vault token per field. Erasing the person's data key makes every token of
    theirs unreadable, wherever it was copied, and leaves the history whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_ref: str
    sealed: dict[str, str] = Field(description="field -> token `pd1:<key version>:...`")


def is_minor(id_number: str, on: date) -> bool:
    """Under 18 on that day by the ID number's birth date (R-ASG-8)."""
    return under_18(born_on(id_number), on)


def under_18(born: date | None, on: date) -> bool:
    """Under 18 on that day (R-ASG-8). An unknown birth date tells nothing."""
    if born is None:
        return False
    return (on.year - born.year - ((on.month, on.day) < (born.month, born.day))) < 18


def born_on(id_number: str) -> date | None:
    """The birth date a resident ID number carries (characters 7-14), if it is a real date."""
    try:
        return birth_date(id_number)
    except ValueError:
        return None
