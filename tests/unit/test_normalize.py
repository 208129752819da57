"""The one normaliser: tone placement, Unicode forms, abbreviations, diacritic-free input."""

from __future__ import annotations

import unicodedata

import pytest

from nlu.normalize import fold_diacritics, has_diacritics, normalize, normalize_words, place_tone
from nlu.textclf import TopicClassifier


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("uỷ", "ủy"), ("hoạ", "họa"), ("tuỳ", "tùy")],
)
def test_both_tone_placements_become_one(new_style: str, old_style: str) -> None:
    assert normalize(new_style) == normalize(old_style) == old_style


@pytest.mark.parametrize(
    "word", ["hoàn", "toán", "quý", "quạ", "giá", "gìn", "người", "ngoài", "khuỷu", "của", "mùa", "được"]
)
def test_tone_placement_leaves_correct_words_alone(word: str) -> None:
    assert place_tone(word) == word


def test_decomposed_and_composed_input_are_identical() -> None:
    text = "Đăng ký tài khoản định danh mức 2 ở đâu"
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(text)


def test_odd_unicode_is_cleaned() -> None:
    assert " ".join(normalize_words("ＶＮｅＩＤ\u200b   mức\u00a02!!!")) == "vneid mức 2"
    assert normalize("🙂🙂") == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("dk tk dvc ko dc", "đăng ký tài khoản dịch vụ công không được"),
        ("quên mk vneid thì lm j", "quên mật khẩu vneid thì làm gì"),
        ("sdt đổi r", "số điện thoại đổi rồi"),
        ("ntn mn", "như thế nào mọi người"),
        ("Bộ KH&CN", "bộ khoa học và công nghệ"),
        ("chuyển 10tr, 500k", "chuyển 10 triệu 500 nghìn"),
    ],
)
def test_chat_and_domain_abbreviations_expand(typed: str, expected: str) -> None:
    assert " ".join(normalize_words(typed)) == expected


def test_normalize_is_idempotent(content) -> None:  # type: ignore[no-untyped-def]
    for record in content.topics:
        for example in record.entry.examples:
            once = normalize(example)
            assert normalize(once) == once, example


PAIRS = [
    ("Kích hoạt VNeID mức 2 ở đâu?", "kich hoat vneid muc 2 o dau"),
    ("Bác em muốn bán chè lên Postmart thì làm sao", "bac em muon ban che len postmart thi lam sao"),
    ("Đăng nhập Cổng Dịch vụ công bằng mã QR", "dang nhap cong dich vu cong bang ma qr"),
]


@pytest.mark.parametrize(("accented", "plain"), PAIRS)
def test_same_folded_features_with_and_without_diacritics(accented: str, plain: str) -> None:
    assert has_diacritics(accented) and not has_diacritics(plain)
    assert fold_diacritics(" ".join(normalize_words(accented))) == " ".join(normalize_words(plain))
    classifier = TopicClassifier().fit([a for a, _ in PAIRS] + ["trời mưa không"], ["a", "b", "c", "out_of_scope"])
    with_marks = classifier._features([normalize(accented)], fit=False)
    without = classifier._features([normalize(plain)], fit=False)
    folded_columns = slice(len(classifier._words.vocabulary_), None)
    assert (with_marks[:, folded_columns] != without[:, folded_columns]).nnz == 0
    assert with_marks[:, folded_columns].nnz > 0
