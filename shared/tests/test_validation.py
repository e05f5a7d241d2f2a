from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.validation import (
    PROVINCES,
    Address,
    Landline,
    MobilePhone,
    PersonName,
    ResidentIdNumber,
    birth_date,
    id_check_char,
)


class Applicant(BaseModel):
    id_number: ResidentIdNumber
    phone: MobilePhone | None = None
    landline: Landline | None = None
    name: PersonName | None = None
    address: Address | None = None


def error_of(**fields) -> str:
    with pytest.raises(ValidationError) as caught:
        Applicant(**{"id_number": "11010519491231002X", **fields})
    (error,) = caught.value.errors()
    return error["msg"]


ids = st.builds(
    lambda province, rest, born, seq: f"{province}{rest:04d}{born:%Y%m%d}{seq:03d}",
    st.sampled_from(sorted(PROVINCES)),
    st.integers(0, 9999),
    st.dates(date(1900, 1, 1), date.today()),
    st.integers(0, 999),
).map(lambda first17: first17 + id_check_char(first17))


def test_a_published_sample_id_number_is_valid_and_its_lower_case_x_is_normalised():
    # The sample in GB 11643-1999's own annex.
    assert Applicant(id_number=" 11010519491231002x ").id_number == "11010519491231002X"
    assert birth_date("11010519491231002X") == date(1949, 12, 31)


@given(ids)
def test_every_generated_id_number_with_its_check_character_is_valid(id_number):
    assert Applicant(id_number=id_number).id_number == id_number


@given(ids, st.integers(0, 16), st.integers(1, 9))
def test_changing_any_one_digit_breaks_the_check_character(id_number, position, delta):
    changed = str((int(id_number[position]) + delta) % 10)
    forged = id_number[:position] + changed + id_number[position + 1 :]
    with pytest.raises(ValidationError):
        Applicant(id_number=forged)


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "last character"),
        ("1101051949123100A2", "first 17"),
        ("00010519491231002X", "region code"),
        ("110105194902300021", "birth date"),
        ("110105" + f"{date.today() + timedelta(days=2):%Y%m%d}" + "0021", "birth date"),
        ("110105194912310021", "check character"),
    ],
)
def test_a_wrong_id_number_is_refused_naming_the_wrong_part_without_repeating_it(value, part):
    message = error_of(id_number=value)
    assert part in message
    assert value not in message


def test_an_id_number_sent_as_a_json_number_is_refused():
    with pytest.raises(ValidationError):
        Applicant(id_number=110105194912310021)


@pytest.mark.parametrize(
    "value", ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "(+86)13812345678"]
)
def test_mobile_numbers_are_normalised_to_eleven_digits(value):
    assert Applicant(id_number="11010519491231002X", phone=value).phone == "13812345678"


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "138-1234-567a", "1" * 100])
def test_bad_mobile_numbers_are_refused(value):
    assert "mobile phone number" in error_of(phone=value)


def test_landlines_need_an_area_code():
    assert Applicant(id_number="11010519491231002X", landline="010 62345678").landline == "010-62345678"
    assert Applicant(id_number="11010519491231002X", landline="0755-8765432").landline == "0755-8765432"
    assert "landline" in error_of(landline="12345678")
    assert "landline" in error_of(landline="010-02345678")


def test_names_and_addresses_are_stripped_bounded_and_free_of_control_characters():
    assert Applicant(id_number="11010519491231002X", name="  买买提·艾力 ").name == "买买提·艾力"
    assert "at most 50" in error_of(name="张" * 51)
    assert "at most 200" in error_of(address="路" * 201)
    assert "control" in error_of(name="张\u0000三")
    assert "control" in error_of(address="北京\u202e市")
    assert "empty" in error_of(name="   ")


def test_the_openapi_schema_documents_the_formats():
    schema = Applicant.model_json_schema()["properties"]
    assert schema["id_number"]["pattern"] == r"^\d{17}[\dXx]$"
    assert schema["name"]["anyOf"][0]["maxLength"] == 50


async def test_a_bad_id_number_in_a_request_is_a_422_problem_naming_the_field_without_echoing_it():
    import httpx
    from fastapi import FastAPI

    from shared.http import install_problem_handlers

    class Body(BaseModel):
        aided_person: Applicant

    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/applications")
    async def apply(body: Body) -> dict[str, str]:
        return {"id_number": body.aided_person.id_number}

    forged = "110105194912310021"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        bad = await client.post(
            "/applications", json={"aided_person": {"id_number": forged, "phone": "12345"}}
        )
        good = await client.post("/applications", json={"aided_person": {"id_number": "11010519491231002x"}})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "check character" in errors["aided_person.id_number"]
    assert "mobile phone number" in errors["aided_person.phone"]
    assert forged not in bad.text and "12345" not in bad.text
    assert good.json() == {"id_number": "11010519491231002X"}
