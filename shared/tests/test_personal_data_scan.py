import base64
import csv
import io
import json
from urllib.parse import quote

import openpyxl
import pytest

from shared.masking import mask_id_number, mask_name, mask_phone
from shared.testing.pii_scan import scan

NAME, ID, PHONE = "张三丰", "11010519491231002X", "13812345678"
NEEDLES = [NAME, ID, PHONE]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (f'{{"name": "{NAME}"}}', "plain"),
        (json.dumps({"name": NAME}), "json-escaped"),
        (json.dumps({"name": NAME}).upper().replace("\\U", "\\u"), "json-escaped-upper"),
        (f"GET /cases?name={quote(NAME)} 200", "url-encoded"),
        (f"GET /cases?name={quote(NAME).lower()} 200", "url-encoded-lower"),
        (f"token={base64.b64encode(NAME.encode()).decode()}", "base64#0"),
        ("<c>&#24352;&#19977;&#20016;</c>", "xml-charref"),
    ],
)
def test_a_name_is_found_in_its_common_encodings(text, encoding):
    (hit,) = scan({"log": text}, [NAME])
    assert (hit.source, hit.encoding) == ("log", encoding)
    assert NAME not in str(hit)  # the report does not leak what it found


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b'{"applicant": {"id": "'])
def test_an_id_number_inside_a_larger_base64_payload_is_found_at_any_alignment(prefix):
    payload = base64.b64encode(prefix + ID.encode() + b'", "x": 1}').decode()
    assert [h.needle for h in scan([payload], [ID])] == [ID]
    assert scan([payload.replace("+", "-").replace("/", "_")], [ID])


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab"])
def test_a_three_character_name_inside_base64_is_found_at_any_alignment(prefix):
    assert scan([base64.b64encode(prefix + NAME.encode() + b"!").decode()], [NAME])


def test_lower_case_x_and_spaced_phone_numbers_are_found():
    assert scan([ID.lower()], [ID])
    assert scan(["call 138 1234 5678"], [PHONE])
    assert scan(["call 138-1234-5678"], [PHONE])


def test_masked_forms_are_not_hits():
    text = json.dumps(
        {"name": mask_name(NAME), "id": mask_id_number(ID), "phone": mask_phone(PHONE)}, ensure_ascii=False
    )
    assert scan([text, text.encode("gb18030"), json.dumps(json.loads(text))], NEEDLES) == []


def test_exports_are_opened_csv_in_gb18030_and_xlsx_member_by_member():
    out = io.StringIO()
    csv.writer(out).writerows([["case", "name"], ["FY-1", NAME]])
    gb_csv = out.getvalue().encode("gb18030")

    book = openpyxl.Workbook()
    book.active.append(["case", "phone"])
    book.active.append(["FY-1", PHONE])
    xlsx = io.BytesIO()
    book.save(xlsx)

    hits = scan({"report.csv": gb_csv, "report.xlsx": xlsx.getvalue()}, NEEDLES)
    assert {(h.source.split("!")[0].split(" ")[0], h.needle) for h in hits} == {
        ("report.csv", NAME),
        ("report.xlsx", PHONE),
    }
    assert any(h.source.startswith("report.xlsx!xl/") for h in hits)


def test_clean_texts_and_unrelated_numbers_are_not_hits():
    assert (
        scan(["case FY-2026-0001 registered", "13912345678", base64.b64encode(b"nothing").decode()], NEEDLES)
        == []
    )


def test_a_one_character_needle_is_refused():
    with pytest.raises(ValueError):
        scan(["x"], ["张"])
