import pytest

from shared.masking import mask_address, mask_id_number, mask_name, mask_phone


def test_an_id_number_keeps_its_region_and_last_four():
    assert mask_id_number("110101199003071234") == "110101********1234"
    assert mask_id_number("110101900307123") == "110101*****7123"  # the old 15-digit form


def test_phones_keep_the_operator_prefix_or_area_code_and_last_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-62345678") == "010-****5678"
    assert mask_phone("0755-8765432") == "0755-***5432"


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧***"), ("李", "*"), ("", "")]
)
def test_a_name_keeps_its_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市朝阳区建国路1号院2单元301", "北京市朝阳区****"),
        ("广东省广州市天河区体育西路3号", "广东省广州市天河区****"),
        ("四川省凉山彝族自治州昭觉县某村", "四川省凉山彝族自治州昭觉县****"),
        ("建国路1号", "****"),
    ],
)
def test_an_address_keeps_its_administrative_divisions_only(address, masked):
    assert mask_address(address) == masked


def test_short_values_are_masked_whole():
    assert mask_id_number("12345678") == "********"
    assert mask_phone("12345") == "*****"
