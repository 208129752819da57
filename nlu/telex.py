"""Telex and VNI keystrokes left in the text when the input method did not convert them.

"caif ddawtj vneid bij looix" was meant as "cài đặt vneid bị lỗi": a phone without a
Vietnamese keyboard, or one switched off, leaves the keystrokes. A token is decoded only when
it is *not* a Vietnamese syllable as typed and its decoding *is* one (onset, rhyme, and a tone
a stop coda allows), so English words, brands, URLs, numbers, abbreviations and syllables that
are already valid stay as they are.

Pure standard library, Python 3.10-compatible: the Rasa environment runs it at training time
through ``nlu.normalize``, the bot at answer time — the same code on both sides.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["decode_token", "is_syllable"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ONSETS = _words("b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x") | {""}
# Every Vietnamese rhyme without its tone, written with its vowel marks.
_RHYMES = _words(
    """
    a ai ao au ay ac ach am an ang anh ap at ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
    e eo ec em en eng ep et ê êu êch êm ên ênh êp êt
    i ia iu ich im in inh ip it iêc iêm iên iêng iêp iêt iêu
    o oa oai oao oay oac oach oam oan oang oanh oap oat oăc oăm oăn oăng oăt oe oeo oen oet
    oi oc om on ong op ot ô ôi ôc ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
    u ua uân uâng uât uây uê uêch uênh ui uc um un ung up ut uôc uôi uôm uôn uông uôt
    uy uya uych uyên uyêt uynh uyt uyu ư ưa ưi ưu ưc ưng ưt ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêng yêt yêu
    """
)
_STOP_CODAS = ("c", "ch", "p", "t")
_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_VOWELS = "aăâeêioôơuưy"
_TOKEN = re.compile(r"[a-z]+|[a-z][a-z0-9]*[0-9][a-z0-9]*")
# Short English words and brands that would decode into a syllable ("bus" → "bú").
_KEEP = _words(
    """
    as is of or if us ax bus gas box tax sex mix six yes has was his its ads abs fax max wax
    boss loss pass miss kiss less mess dress class glass cross press bar car far jar tar star
    her per sir fur our four your door floor poor tour hour lux fox nox tox rex ddos dos ios
    """
)


def _split(word: str) -> tuple[str, str] | None:
    """(onset, rhyme) of a toneless syllable, or None."""
    for size in (3, 2, 1, 0):
        onset, rhyme = word[:size], word[size:]
        if onset in _ONSETS and rhyme in _RHYMES:
            if onset == "gi" and rhyme and rhyme[0] in "iì":
                continue
            return onset, rhyme
    # "gi" + rhyme without its own vowel ("gìn" is "gi" + "in") and "qu" likewise
    if word.startswith(("gi", "qu")) and word[1:] in _RHYMES:
        return word[:2], word[1:]
    return None


def _tone_of(word: str) -> tuple[str, str]:
    """(the word without its tone mark, the tone mark or '')."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in "\u0300\u0301\u0303\u0309\u0323"))
    return bare, tone


def is_syllable(word: str) -> bool:
    """A Vietnamese syllable (lower case, NFC, at most one tone; stop codas take sắc or nặng only)."""
    bare, tone = _tone_of(word)
    if len(tone) > 1:
        return False
    parts = _split(bare)
    if parts is None:
        return False
    return not (tone in ("\u0300", "\u0309", "\u0303") and parts[1].endswith(_STOP_CODAS))


def _with_tone(word: str, tone: str) -> str:
    """Put ``tone`` on the syllable's main vowel (the marked one, else by the usual rules)."""
    if not tone:
        return word
    positions = [i for i, c in enumerate(word) if c in _VOWELS]
    if not positions:
        return word
    if word.startswith(("qu", "gi")) and len(positions) > 1 and positions[0] == 1:
        positions = positions[1:]
    marked = [i for i in positions if word[i] in "ăâêôơư"]
    if marked:
        target = marked[-1]
    elif len(positions) == 1:
        target = positions[0]
    elif positions[-1] < len(word) - 1:  # a coda follows: the last vowel ("hoàn", "toán")
        target = positions[-1]
    elif len(positions) == 2:
        target = positions[0]  # "hòa", "múa", "mía"
    else:
        target = positions[1]
    return word[:target] + unicodedata.normalize("NFC", word[target] + tone) + word[target + 1 :]


def _telex(token: str) -> str:
    word, tone, seen_vowel = "", "", False
    # Other Telex keys in the word make any tone key before the coda believable ("tieesng").
    telex_evident = token.startswith("dd") or "w" in token or any(d in token for d in ("aa", "ee", "oo"))
    for at, ch in enumerate(token):
        rest = token[at + 1 :]
        # A tone key comes after the vowels; one followed by another vowel is a letter of some
        # other word ("virus", "taxi", "visa").
        is_key = seen_vowel and (ch in _TONES or ch == "z") and not any(c in "aeiouy" for c in rest)
        # s and r before a consonant are common in English ("post", "port"); f, j and x there
        # are not ("lafm" is "làm"), and a wrong decode of them fails the stop-coda rule.
        if is_key and (telex_evident or not rest or ch in "fjxz"):
            tone = _TONES.get(ch, "")
            continue
        word += ch
        seen_vowel = seen_vowel or ch in "aeiouyw"
    if word.startswith("dd"):
        word = "đ" + word[2:]
    for double, marked in (("aa", "â"), ("ee", "ê"), ("oo", "ô")):
        word = word.replace(double, marked, 1)
    if "w" in word:
        word = _apply_w(word)
    return _with_tone(word, tone)


def _horn(cluster: str, after_q: bool) -> str:
    """The vowel cluster with the horn or breve a ``w`` gives it (``uo`` → ``ươ``, ``a`` → ``ă``)."""
    if "uo" in cluster or "ưo" in cluster:
        return cluster.replace("uo", "ươ").replace("ưo", "ươ")
    if after_q and cluster.startswith("u"):  # "quawng" → "quăng": the u belongs to the onset
        return "u" + _horn(cluster[1:], False) if len(cluster) > 1 else cluster
    for plain, marked in (("u", "ư"), ("o", "ơ"), ("a", "ă")):
        if plain in cluster:
            return cluster.replace(plain, marked, 1)
    return cluster


def _apply_w(word: str) -> str:
    """Each ``w`` marks the vowels before it (typed right after them or after the coda); alone, ``ư``."""
    while "w" in word:
        head, _, tail = word.partition("w")
        match = re.search(f"[{_VOWELS}]+", head[::-1])
        if match is None:  # "tw" → "tư"
            word = head + "ư" + tail
            continue
        end = len(head) - match.start()
        start = len(head) - match.end()
        word = head[:start] + _horn(head[start:end], head[:start].endswith("q")) + head[end:] + tail
    return word


def _vni(token: str) -> str:
    word, tone = "", ""
    for ch in token:
        if ch in _VNI_TONES:
            tone = _VNI_TONES[ch]
        elif ch == "6" and word and word[-1] in "aeo":
            word = word[:-1] + {"a": "â", "e": "ê", "o": "ô"}[word[-1]]
        elif ch == "7" and word:
            word = _apply_w(word + "w")
        elif ch == "8" and word and "a" in word:
            at = word.rfind("a")
            word = word[:at] + "ă" + word[at + 1 :]
        elif ch == "9" and word.startswith("d"):
            word = "đ" + word[1:]
        else:
            word += ch
    return _with_tone(word, tone)


def decode_token(token: str) -> str:
    """One lower-case token; Telex or VNI leftovers decoded, anything else as it was."""
    if len(token) < 3 or token in _KEEP or not _TOKEN.fullmatch(token) or is_syllable(token):
        return token
    if not any(c in "aeiouy" for c in token):  # "www", "sms", "ddc"
        return token
    if any(c.isdigit() for c in token):
        # VNI only with a shape digit (6–9) or a tone digit inside the word: "lan2" stays "lan2".
        inner = re.search(r"[1-5][a-z]", token) is not None
        decoded = _vni(token) if inner or any(c in "6789" for c in token) else token
    else:
        decoded = _telex(token)
    return decoded if decoded != token and is_syllable(decoded) else token
