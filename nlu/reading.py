"""Long, story-like messages: read the question part as well as the whole.

Members often tell a story first ("Mẹ em 70 tuổi ở quê một mình. Hôm qua có người gọi…
Em phải làm sao ạ?"). The whole message then spreads the classifier's confidence over
every topic the story touches. :func:`parts` cuts a long message into its sentences;
the classifier ranks the whole and each sentence; :func:`combine` keeps the whole
message's reading unless one sentence reads as the same kind of question with more
confidence: its top topic must be a real topic among the whole message's first three
(a consistent reading, not a stray sentence such as "cảm ơn em"), and it must be more
confident than the whole.

Plain functions over texts and rankings, so the answer pipeline (rankings from Rasa),
calibration and evaluation (rankings from the in-process classifier) share them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from nlu.decision import OUT_OF_SCOPE
from nlu.normalize import fold_diacritics, normalize

Ranking = list[tuple[str, float]]

# A message is "long" from this many words; shorter ones are read whole only.
MIN_WORDS = 15
# A sentence worth reading on its own has at least this many words.
MIN_PART_WORDS = 3
# Whole-message topics a sentence's reading must fall among to be consistent.
CONSISTENT_TOP = 3
MAX_PARTS = 6

_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\n+")


_QUESTION_WORDS = frozenset(
    [
        "gi",
        "j",
        "nao",
        "sao",
        "dau",
        "chua",
        "bao",
        "nhieu",
        "may",
        "ai",
        "ntn",
        "the",
        "ha",
        "hok",
        "hem",
        "khong",
        "ko",
        "k",
        "kg",
        "khg",
    ]
)


def is_question(sentence: str) -> bool:
    """A sentence that asks something: a question mark, or a Vietnamese question word."""
    if "?" in sentence:
        return True
    return any(word in _QUESTION_WORDS for word in re.findall(r"\w+", fold_diacritics(sentence.lower())))


def parts(text: str) -> list[str]:
    """The question sentences of a long message, to be ranked on their own; [] for a short one
    or one whose question cannot be told apart from the story."""
    if len(text.split()) < MIN_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    if len(sentences) < 2:
        return []
    asked = [s for s in sentences if len(s.split()) >= MIN_PART_WORDS and "?" in s]
    if not asked:
        asked = [s for s in sentences if len(s.split()) >= MIN_PART_WORDS and is_question(s)]
    if not asked or len(asked) == len(sentences):
        return []
    # The question usually comes last.
    return asked[-MAX_PARTS:]


def combine(whole: Ranking, part_rankings: Sequence[Ranking]) -> Ranking:
    """The whole message's ranking, or its average with a surer, consistent question sentence's.

    A sentence counts only if its top topic is a real topic among the whole message's first
    three and it is more confident than the whole; averaging (rather than taking the sentence
    alone) keeps a short sentence's over-confidence from deciding on its own.
    """
    if not whole or not part_rankings:
        return whole
    leading = {label for label, _ in whole[:CONSISTENT_TOP] if label != OUT_OF_SCOPE}
    consistent = [r for r in part_rankings if r and r[0][0] in leading]
    if not consistent:
        return whole
    best = max(consistent, key=lambda ranking: ranking[0][1])
    if best[0][1] <= whole[0][1]:
        return whole
    scores = dict.fromkeys([label for label, _ in whole], 0.0)
    for ranking in (whole, best):
        for label, score in ranking:
            scores[label] = scores.get(label, 0.0) + score / 2
    return sorted(scores.items(), key=lambda item: -item[1])


def rank_messages(texts: Sequence[str], rank_normalized: Callable[[list[str]], list[Ranking]]) -> list[Ranking]:
    """Rank raw messages as the answer pipeline does: the whole, and the question sentences of
    long ones, combined. ``rank_normalized`` ranks texts already normalised (batched)."""
    wholes = rank_normalized([normalize(text) for text in texts])
    split = [parts(text) for text in texts]
    flat = [normalize(part) for pieces in split for part in pieces]
    part_rankings = rank_normalized(flat) if flat else []
    out: list[Ranking] = []
    position = 0
    for whole, pieces in zip(wholes, split, strict=True):
        out.append(combine(whole, part_rankings[position : position + len(pieces)]))
        position += len(pieces)
    return out
