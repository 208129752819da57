"""The topic classifier behind our Rasa component, usable without Rasa.

Why a custom scikit-learn model instead of DIET: on 2 CPU cores DIET needs many
minutes per training, while TF-IDF + logistic regression trains in seconds and,
given accent-folded features and stripped copies of every training question,
keeps its accuracy when users type without diacritics (see
``shared/spec/nlu-notes.md``). The same class runs inside the Rasa component
(Python 3.10) and in the main environment for cross-validated threshold
calibration, so both see identical features.

Only APIs present in scikit-learn 1.1 (Rasa's pin) and later are used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.normalize import fold_diacritics, normalize

Ranking = list[tuple[str, float]]


def training_views(normalized: str) -> list[str]:
    """The text itself plus, if it has diacritics, its stripped copy."""
    folded = fold_diacritics(normalized)
    return [normalized] if folded == normalized else [normalized, folded]


class TopicClassifier:
    """TF-IDF on normalised words, folded words and folded character n-grams + LR."""

    def __init__(self, *, c: float = 20.0, seed: int = 42) -> None:
        self.c = c
        self.seed = seed
        self._words = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        self._folded_words = TfidfVectorizer(
            token_pattern=r"\S+", ngram_range=(1, 3), sublinear_tf=True, lowercase=False
        )
        self._folded_chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=False, min_df=2
        )
        self._model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", random_state=seed)
        self.labels: list[str] = []

    def _features(self, normalized: Sequence[str], *, fit: bool) -> sparse.csr_matrix:
        folded = [fold_diacritics(text) for text in normalized]
        parts = []
        for vectorizer, column in (
            (self._words, normalized),
            (self._folded_words, folded),
            (self._folded_chars, folded),
        ):
            parts.append(vectorizer.fit_transform(column) if fit else vectorizer.transform(column))
        return sparse.hstack(parts).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TopicClassifier:
        """Train on raw texts; each one is normalised and also seen without diacritics."""
        return self.fit_normalized([normalize(text) for text in texts], labels)

    def fit_normalized(self, normalized: Sequence[str], labels: Sequence[str]) -> TopicClassifier:
        rows: list[str] = []
        targets: list[str] = []
        for text, label in zip(normalized, labels, strict=True):
            for view in training_views(text):
                rows.append(view)
                targets.append(label)
        self._model.fit(self._features(rows, fit=True), targets)
        self.labels = [str(label) for label in self._model.classes_]
        return self

    def rank_normalized(self, normalized: Sequence[str]) -> list[Ranking]:
        """Rankings for texts that already went through :func:`normalize`."""
        if not normalized:
            return []
        probabilities = self._model.predict_proba(self._features(normalized, fit=False))
        rankings: list[Ranking] = []
        for row in probabilities:
            order = np.argsort(-row)
            rankings.append([(self.labels[i], float(row[i])) for i in order])
        return rankings

    def rank(self, texts: Sequence[str]) -> list[Ranking]:
        return self.rank_normalized([normalize(text) for text in texts])
