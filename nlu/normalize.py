"""One normaliser for Vietnamese text, shared by training data and live queries.

Standard library plus PyYAML (for the lexicon file) on purpose: the Rasa environment
(Python 3.10) imports it inside the Rasa pipeline, and the main environment (Python 3.11)
imports it in the answer pipeline, so both sides produce byte-identical text.

Steps: Unicode compatibility normalisation to NFC, removal of invisible
characters, lower case, Telex/VNI keystrokes left unconverted decoded (``caif`` →
``cài``, see ``nlu.telex``), canonical tone placement (``hoà`` → ``hòa``), and
expansion of common chat and domain abbreviations (``ko`` → ``không``), and the names of
concepts described without their name (``ứng dụng của công an`` → ``vneid`` added; see
``nlu.lexicon``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from nlu.lexicon import lexicon
from nlu.telex import decode_token

__all__ = [
    "ABBREVIATIONS",
    "fold_diacritics",
    "has_diacritics",
    "normalize",
    "normalize_words",
    "place_tone",
    "tokenize",
]

# Combining marks that carry the five Vietnamese tones (grave, acute, hook, tilde, dot).
_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
# Letters whose shape marks (breve, circumflex, horn) take the tone when present.
_MARKED_VOWELS = set("ăâêôơư")
_VOWELS = set("aăâeêioôơuưy")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TOKEN_RE = re.compile(r"\w+(?:[./:@'&\-]\w+)*")
# "10tr", "50k": amounts glued to their unit; split them before "k" can mean "không".
_AMOUNT_RE = re.compile(r"(\d)(tr|triệu|k|nghìn|ngàn)\b")
_AMOUNT_UNITS = {"tr": "triệu", "k": "nghìn", "ngàn": "nghìn"}
_MAX_CONCEPT_ROUNDS = 4

# Whole-token abbreviations seen in Vietnamese chat (nlu-notes.md counts) and in this
# domain. Keys are written without diacritics *and* with them where people type both.
ABBREVIATIONS: dict[str, str] = {
    # chat
    "ko": "không",
    "k": "không",
    "kh": "không",
    "khum": "không",
    "hok": "không",
    "hông": "không",
    "hong": "không",
    "kg": "không",
    "khg": "không",
    "hem": "không",
    "dc": "được",
    "đc": "được",
    "dk": "đăng ký",
    "đk": "đăng ký",
    "đky": "đăng ký",
    "dky": "đăng ký",
    "j": "gì",
    "gi": "gì",
    "r": "rồi",
    "roai": "rồi",
    "z": "vậy",
    "vs": "với",
    "cx": "cũng",
    "cg": "cũng",
    "ng": "người",
    "mn": "mọi người",
    "mng": "mọi người",
    "ntn": "như thế nào",
    "ns": "nói",
    "lm": "làm",
    "bt": "biết",
    "bít": "biết",
    "mik": "mình",
    "mjk": "mình",
    "mh": "mình",
    "t": "tôi",
    "thui": "thôi",
    "bn": "bao nhiêu",
    "bnhiu": "bao nhiêu",
    "bnh": "bao nhiêu",
    "hc": "học",
    "oy": "rồi",
    "ak": "à",
    "ah": "à",
    "uh": "ừ",
    "ok": "ok",
    "oke": "ok",
    "okie": "ok",
    "ib": "nhắn tin",
    "tks": "cảm ơn",
    "thanks": "cảm ơn",
    "thank": "cảm ơn",
    "thx": "cảm ơn",
    "cám": "cảm",
    "nhiu": "nhiêu",
    "nhìu": "nhiều",
    "trc": "trước",
    "ms": "mới",
    "mún": "muốn",
    "đag": "đang",
    "dag": "đang",
    "vc": "việc",
    "cv": "công việc",
    "nt": "nhắn tin",
    "ad": "ad",
    "add": "ad",
    "admin": "ad",
    # domain
    "dvc": "dịch vụ công",
    "dvcqg": "dịch vụ công quốc gia",
    "tthc": "thủ tục hành chính",
    "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh nhân dân",
    "tk": "tài khoản",
    "mk": "mật khẩu",
    "pass": "mật khẩu",
    "sdt": "số điện thoại",
    "sđt": "số điện thoại",
    "dt": "điện thoại",
    "đt": "điện thoại",
    "dthoai": "điện thoại",
    "đthoai": "điện thoại",
    "tmdt": "thương mại điện tử",
    "tmđt": "thương mại điện tử",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "ubnd": "ủy ban nhân dân",
    "csgt": "cảnh sát giao thông",
    "lltp": "lý lịch tư pháp",
    "gplx": "giấy phép lái xe",
    "htx": "hợp tác xã",
    "sp": "sản phẩm",
    "stk": "số tài khoản",
    "ck": "chuyển khoản",
    "cnscd": "công nghệ số cộng đồng",
    "cnscđ": "công nghệ số cộng đồng",
    "cns": "công nghệ số",
    "cds": "chuyển đổi số",
    "cđs": "chuyển đổi số",
    "fb": "facebook",
    "face": "facebook",
    "zl": "zalo",
    "app": "ứng dụng",
    "apps": "ứng dụng",
    "mobimoney": "mobile money",
    "mm": "mobile money",
    "tttt": "thông tin và truyền thông",
    "khcn": "khoa học và công nghệ",
    "kh&cn": "khoa học và công nghệ",
    "tt&tt": "thông tin và truyền thông",
    "vneid": "vneid",
    "vnid": "vneid",
    "vn-eid": "vneid",
    "vneld": "vneid",
}


def _split_tone(ch: str) -> tuple[str, str]:
    """Return (letter without tone, tone mark or '') for one composed character."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in decomposed if c in _TONE_MARKS)
    base = "".join(c for c in decomposed if c not in _TONE_MARKS)
    return unicodedata.normalize("NFC", base), tone[:1]


def place_tone(word: str) -> str:
    """Put a syllable's tone mark where the traditional ("hòa", "thủy") style puts it.

    Sources disagree (``hoà`` vs ``hòa``); mapping both to one form keeps their
    features identical. Words that are not single Vietnamese syllables come back
    unchanged.
    """
    if not word or len(word) > 8:
        return word
    letters: list[str] = []
    tone = ""
    for ch in word:
        base, mark = _split_tone(ch)
        if mark:
            if tone:  # two tone marks: not a Vietnamese syllable, leave it alone
                return word
            tone = mark
        letters.append(base)
    if not tone:
        return word
    plain = "".join(letters)
    if not plain.isalpha():
        return word
    # Find the vowel nucleus, skipping the 'u' of "qu" and the 'i' of "gi".
    start = 0
    while start < len(plain) and plain[start] not in _VOWELS:
        start += 1
    if start >= len(plain):
        return word
    if plain[:2] == "qu" and start == 1 and len(plain) > 2 and plain[2] in _VOWELS:
        start = 2
    if plain[:2] == "gi" and start == 1 and len(plain) > 2 and plain[2] in _VOWELS:
        start = 2
    end = start
    while end < len(plain) and plain[end] in _VOWELS:
        end += 1
    if plain[end:] and not plain[end:].isalpha():
        return word
    nucleus = range(start, end)
    has_coda = end < len(plain)
    marked = [i for i in nucleus if plain[i] in _MARKED_VOWELS]
    if marked:
        target = marked[-1]  # "ươ" takes the tone on ơ
    elif len(nucleus) == 1:
        target = start
    elif has_coda:
        target = end - 1
    elif len(nucleus) == 2:
        target = start
    else:
        target = start + 1
    out = list(plain)
    out[target] = unicodedata.normalize("NFC", out[target] + tone)
    return "".join(out)


def tokenize(text: str) -> list[str]:
    """Split already-normalised text into word tokens (keeps "dichvucong.gov.vn", "1/7/2026")."""
    return _TOKEN_RE.findall(text)


def _expand(tokens: Iterable[str]) -> list[str]:
    extra = lexicon().abbreviations
    out: list[str] = []
    for token in tokens:
        out.extend((ABBREVIATIONS.get(token) or extra.get(token) or token).split())
    return out


def normalize_words(text: str) -> list[str]:
    """The question's own words, normalised (no lexicon concepts added)."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = unicodedata.normalize("NFC", text.lower())
    text = _AMOUNT_RE.sub(lambda m: f"{m[1]} {_AMOUNT_UNITS.get(m[2], m[2])}", text)
    known = lexicon().abbreviations
    words = [
        place_tone(token if token in ABBREVIATIONS or token in known else decode_token(token))
        for token in tokenize(text)
    ]
    return _expand(words)


def normalize(text: str) -> str:
    """Canonical form of a question: the only text the classifiers ever see.

    Idempotent: concept names added by the lexicon are themselves looked up until nothing new
    comes, so normalising the result again adds nothing (the Rasa tokenizer normalises the
    already normalised query once more, and must see the same text).
    """
    words = normalize_words(text)
    for _ in range(_MAX_CONCEPT_ROUNDS):
        added: list[str] = []
        for concept in lexicon().concepts_in(words):
            name = _expand(concept)
            if f" {' '.join(name)} " not in f" {' '.join(words + added)} ":  # named already: nothing to add
                added += name
        if not added:
            break
        words += added
    return " ".join(words)


def fold_diacritics(text: str) -> str:
    """Remove every diacritic, including đ → d (sklearn's strip_accents keeps đ)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese mark (used to split evaluation subsets)."""
    return fold_diacritics(text) != text
