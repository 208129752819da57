"""The domain lexicon adds a concept's name when it is described, with or without diacritics."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.lexicon import LEXICON_FILE, lexicon
from nlu.normalize import normalize, normalize_words

SAMPLE = {
    "concepts": [
        {"concept": "vneid", "phrases": ["ứng dụng của công an", "căn cước điện tử"], "source": "test"},
        {"concept": "onetouch", "phrases": ["học online của bộ"], "source": "test"},
    ],
    "abbreviations": [{"abbr": "gks", "expansion": "giấy khai sinh", "source": "test"}],
}


def words(text: str) -> list[str]:
    return text.split()


def sample(tmp_path: Path) -> Path:
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(SAMPLE, allow_unicode=True), encoding="utf-8")
    return path


def test_a_description_adds_the_name_with_or_without_diacritics(tmp_path: Path) -> None:
    found = lexicon(sample(tmp_path))
    assert found.concepts_in(words("cái ứng dụng của công an để làm giấy tờ")) == [("vneid",)]
    assert found.concepts_in(words("cai ung dung cua cong an de lam giay to")) == [("vneid",)]
    assert found.concepts_in(words("trang học online của bộ cho cán bộ")) == [("onetouch",)]


def test_nothing_added_without_a_whole_phrase_or_when_the_name_is_there(tmp_path: Path) -> None:
    found = lexicon(sample(tmp_path))
    assert found.concepts_in(words("ứng dụng của công ty")) == []
    assert found.abbreviations == {"gks": "giấy khai sinh"}


def test_every_entry_of_the_lexicon_files_has_a_source() -> None:
    files = [path for path in (LEXICON_FILE, LEXICON_FILE.with_name("lexicon-draft.yaml")) if path.exists()]
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert all(entry.get("source") for entry in data.get("concepts") or []), path
        assert all(entry.get("source") for entry in data.get("abbreviations") or []), path
        assert all(len(phrase.split()) >= 2 for entry in data.get("concepts") or [] for phrase in entry["phrases"]), (
            path
        )


def test_the_normaliser_adds_the_name_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nlu.normalize.lexicon", lambda: lexicon(sample(tmp_path)))
    added = normalize("cái ứng dụng của công an để làm giấy tờ")
    assert added.endswith(" vneid") and normalize(added) == added
    assert normalize("vneid là ứng dụng của công an à") == " ".join(normalize_words("vneid là ứng dụng của công an à"))
    described = normalize("nhom thanh nien di tung nha chi ba con dung dien thoai")
    assert described.startswith(" ".join(normalize_words("nhom thanh nien di tung nha chi ba con dung dien thoai")))
    assert normalize(described) == described  # idempotent: a second pass adds nothing
