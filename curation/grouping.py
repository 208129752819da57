"""When two questions are "the same": one grouping key, and near-duplicates of it.

The key is what the classifier would see, minus what does not change the meaning:
``nlu.normalize.normalize`` (case, Telex leftovers, tone placement, chat and domain
abbreviations), then ``fold_diacritics``, then punctuation collapsed to single spaces. So
"caif ddawtj VNeID!!" and "cài đặt vneid" share the key ``cai dat vneid``, and "ko dc" and
"không được" share ``khong duoc``. The same key identifies a curated example (one per label
and key) and decides which imported example a curated one replaces.

Near-duplicates: keys at least ``SIMILARITY`` alike (``difflib`` ratio) join the same group.
Comparing with every open group would not scale, so an item is compared only with the open
groups whose key starts or ends with the same word (the indexed ``head`` / ``tail`` columns of
``inbox_groups``), at most ``CANDIDATES`` of each, newest first. A typo or an extra word at one
end is caught; two texts that differ at both ends are rarely 85 % alike anyway.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from nlu.normalize import fold_diacritics, normalize

SIMILARITY = 0.85
CANDIDATES = 200  # open groups compared per head word and per tail word
MAX_KEY_CHARS = 400  # keys are indexed (PostgreSQL's b-tree rows are limited); longer texts are cut
MAX_WORD_CHARS = 64
_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=65_536)
def grouping_key(text: str) -> str:
    """The key of a question or example ('' when it has no words). Cached: examples repeat."""
    folded = fold_diacritics(normalize(text))
    return " ".join(_WORD.findall(folded))[:MAX_KEY_CHARS].rstrip()


def head_word(key: str) -> str:
    return key.split(" ", 1)[0][:MAX_WORD_CHARS]


def tail_word(key: str) -> str:
    return key.rsplit(" ", 1)[-1][:MAX_WORD_CHARS]


def similarity(a: str, b: str) -> float:
    """``difflib`` ratio of two keys, 0 early when their lengths alone rule the threshold out."""
    if a == b:
        return 1.0
    if not a or not b or 2 * min(len(a), len(b)) / (len(a) + len(b)) < SIMILARITY:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILARITY or matcher.quick_ratio() < SIMILARITY:
        return 0.0
    return matcher.ratio()


def closest(key: str, candidates: Iterable[tuple[str, int]]) -> int | None:
    """The id of the most similar candidate ``(key, id)`` at or above ``SIMILARITY``; earlier wins ties."""
    best_id, best = None, SIMILARITY
    for other, candidate_id in candidates:
        score = similarity(key, other)
        if score > best or (score == best and best_id is None):
            best_id, best = candidate_id, score
    return best_id
