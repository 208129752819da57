"""Lexical fallback classifier: nearest training example by TF-IDF cosine.

Used while Rasa is down or slow. It needs no training step (it indexes the
knowledge base's examples in well under a second), runs in-process, and reads
the same normalised, accent-folded text as the Rasa pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.normalize import fold_diacritics, normalize

Ranking = list[tuple[str, float]]


class LexicalClassifier:
    """Scores each intent by its most similar example."""

    def __init__(self, examples: Mapping[str, Sequence[str]]) -> None:
        self._labels: list[str] = []
        texts: list[str] = []
        for intent, questions in examples.items():
            for question in questions:
                self._labels.append(intent)
                texts.append(fold_diacritics(normalize(question)))
        if not texts:
            raise ValueError("the lexical classifier needs at least one example")
        self._intents = sorted(set(self._labels))
        self._label_index = np.array([self._intents.index(label) for label in self._labels])
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=False)
        self._matrix = self._vectorizer.fit_transform(texts)

    @property
    def size(self) -> int:
        return len(self._labels)

    def rank_normalized(self, normalized: Sequence[str], *, exclude_self: bool = False) -> list[Ranking]:
        """Rankings for normalised texts. ``exclude_self`` drops identical rows (leave-one-out)."""
        if not normalized:
            return []
        queries = self._vectorizer.transform([fold_diacritics(text) for text in normalized])
        similarities = (queries @ self._matrix.T).toarray()
        if exclude_self:
            similarities[similarities > 0.9999] = 0.0
        rankings: list[Ranking] = []
        for row in similarities:
            best = np.zeros(len(self._intents))
            np.maximum.at(best, self._label_index, row)
            order = np.argsort(-best)
            rankings.append([(self._intents[i], float(best[i])) for i in order[:10]])
        return rankings

    def rank(self, text: str) -> Ranking:
        return self.rank_normalized([normalize(text)])[0]
