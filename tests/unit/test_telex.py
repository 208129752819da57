"""Telex and VNI leftovers are decoded; English, brands, URLs, numbers and valid syllables are not."""

from __future__ import annotations

import pytest

from nlu.normalize import fold_diacritics, normalize
from nlu.telex import decode_token, is_syllable

DECODED = {
    "caif": "cài",
    "ddawtj": "đặt",
    "ddawng": "đăng",
    "bij": "bị",
    "looix": "lỗi",
    "hoof": "hồ",
    "sow": "sơ",
    "noopj": "nộp",
    "ddaau": "đâu",
    "khoong": "không",
    "nguwowif": "người",
    "nguoiwf": "người",  # the horn typed after the whole vowel cluster
    "truwowngf": "trường",
    "dduowcj": "được",
    "quyeenf": "quyền",
    "giaays": "giấy",
    "toans": "toán",
    "hoaf": "hòa",
    "muaf": "mùa",
    "muwa": "mưa",
    "quawng": "quăng",
    "tieesng": "tiếng",  # tone before the coda, believable with the ee
    "lafm": "làm",  # huyền before the coda
    "nhanj": "nhạn",
    "chuyeenr": "chuyển",
    "tie6ng1": "tiếng",  # VNI
    "ca1c": "các",
    "du9ng1": "đúng",
}
KEPT = [
    # already Vietnamese syllables, with or without marks
    "hoa", "mat", "khau", "tien", "lỗi", "không",
    # English and brands (some would decode into a syllable: virus → víu, taxi → tãi, post → pót)
    "vneid", "shopee", "zalo", "facebook", "google", "email", "wifi", "virus", "taxi", "visa", "post",
    "pizza", "bus", "gas", "ddos", "text", "next", "soft", "port", "best", "list",
    "onetouch", "postmart", "momo", "tiktok", "online", "iphone",
    # URLs, numbers, abbreviations, no vowel at all
    "www", "http", "2025", "lan2", "muc2", "sms", "otp", "mk", "dc", "ko",
]  # fmt: skip


@pytest.mark.parametrize(("typed", "meant"), sorted(DECODED.items()))
def test_keystrokes_are_decoded(typed: str, meant: str) -> None:
    assert decode_token(typed) == meant
    assert is_syllable(meant)


@pytest.mark.parametrize("token", KEPT)
def test_other_tokens_are_left_alone(token: str) -> None:
    assert decode_token(token) == token


def test_a_missing_circumflex_still_folds_to_the_word() -> None:
    assert fold_diacritics(decode_token("nopj")) == "nop"  # "nọp": the classifier's folded features match "nộp"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("caif ddawtj vneid bij looix", "cài đặt vneid bị lỗi"),
        ("hoof sow nopj ddaau", "hồ sơ nọp đâu"),
        (
            "Mk quên rồi, vào https://dichvucong.gov.vn ko dc",
            "mật khẩu quên rồi vào https dichvucong.gov.vn không được",
        ),
    ],
)
def test_normaliser_decodes_in_context(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


def test_syllable_rules() -> None:
    assert is_syllable("nghiêng") and is_syllable("quyết") and is_syllable("gìn")
    assert not is_syllable("hàt")  # a stop coda takes only sắc or nặng
    assert not is_syllable("shop") and not is_syllable("ngh")
