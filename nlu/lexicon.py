"""The domain lexicon: descriptions and synonyms mapped to the names the knowledge base uses.

Members often describe a thing instead of naming it ("cái ứng dụng của công an để làm giấy
tờ" means VNeID). ``nlu/lexicon.yaml`` (reviewed, one source note per entry) lists such phrases
per canonical concept; when a phrase occurs in a question, the concept's words are added at the
end, so the classifier sees the name as well as the description. The file also extends the
abbreviation list with procedure and document names.

Used inside ``nlu.normalize``, so it runs identically at training time (Rasa, Python 3.10)
and at answer time. Matching ignores diacritics (phrases typed without marks match too) and
needs whole tokens. The file is read once, on first use.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.yaml"


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token.replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@dataclass(frozen=True)
class Lexicon:
    phrases: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (folded phrase tokens, concept tokens)
    abbreviations: dict[str, str]

    def concepts_in(self, tokens: list[str]) -> list[tuple[str, ...]]:
        """The concepts whose phrases occur in ``tokens`` (whole tokens, diacritics ignored), once each."""
        if not self.phrases:  # no lexicon in use: nothing to fold on every question
            return []
        folded = [_fold(token) for token in tokens]
        found: list[tuple[str, ...]] = []
        for phrase, concept in self.phrases:
            size = len(phrase)
            if concept not in found and any(
                tuple(folded[i : i + size]) == phrase for i in range(len(folded) - size + 1)
            ):
                found.append(concept)
        return found


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", str(text)).lower().split())


@functools.cache
def lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    if not path.exists():
        return Lexicon((), {})
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phrases = []
    for entry in data.get("concepts") or []:
        concept = _tokens(entry["concept"])
        for phrase in entry.get("phrases") or []:
            phrases.append((tuple(_fold(t) for t in _tokens(phrase)), concept))
    phrases.sort(key=lambda item: -len(item[0]))  # longer phrases first: the more specific reading
    abbreviations = {
        str(item["abbr"]).lower(): unicodedata.normalize("NFC", str(item["expansion"])).lower()
        for item in data.get("abbreviations") or []
    }
    return Lexicon(tuple(phrases), abbreviations)
