"""The topic classifier behind our Rasa component, usable without Rasa.

Why a custom scikit-learn model instead of DIET: on 2 CPU cores DIET needs many
minutes per training, while TF-IDF + a linear model trains in seconds and, given
accent-folded features and stripped copies of every training question, keeps its
accuracy when users type without diacritics (see ``shared/spec/nlu-notes.md``). The
same class runs inside the Rasa component (Python 3.10) and in the main environment for
cross-validated threshold calibration, so both see identical features.

The model (issue 8, chosen on cross-validation plus the calibration sets, see the
README's ablation): a linear SVM whose scores go through a softmax with a fixed
temperature. Against the logistic regression it replaced it trains ten times faster
(seconds, which the retraining loop needs) and ranks described and near-miss
questions better. ``out_of_scope`` counts more than a topic per example, because a
wrong answer to an unrelated question costs more than a refusal.

Only APIs present in scikit-learn 1.1 (Rasa's pin) and later are used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from nlu.normalize import fold_diacritics, normalize

Ranking = list[tuple[str, float]]
ModelKind = Literal["svm", "logistic"]
OUT_OF_SCOPE = "out_of_scope"  # as nlu.decision, which needs Python 3.11; this module also runs in Rasa's 3.10


def training_views(normalized: str) -> list[str]:
    """The text itself plus, if it has diacritics, its stripped copy."""
    folded = fold_diacritics(normalized)
    return [normalized] if folded == normalized else [normalized, folded]


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


class TopicClassifier:
    """TF-IDF on normalised words, folded words and folded character n-grams + a linear model."""

    def __init__(
        self,
        *,
        model: ModelKind = "svm",
        c: float = 0.5,
        temperature: float = 8.0,
        out_of_scope_weight: float = 10.0,
        seed: int = 42,
    ) -> None:
        self.model: ModelKind = model
        self.c = c
        self.temperature = temperature
        self.out_of_scope_weight = out_of_scope_weight
        self.seed = seed
        self._words = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        self._folded_words = TfidfVectorizer(
            token_pattern=r"\S+", ngram_range=(1, 3), sublinear_tf=True, lowercase=False
        )
        self._folded_chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=False, min_df=2
        )
        self._model: LinearSVC | LogisticRegression | None = None
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

    def _class_weights(self, targets: Sequence[str]) -> dict[str, float]:
        """Balanced weights (rare topics count as much as common ones), out_of_scope boosted."""
        counts = Counter(targets)
        total, classes = len(targets), len(counts)
        return {
            label: total / (classes * count) * (self.out_of_scope_weight if label == OUT_OF_SCOPE else 1.0)
            for label, count in counts.items()
        }

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
        weights = self._class_weights(targets)
        model: LinearSVC | LogisticRegression
        if self.model == "svm":
            model = LinearSVC(C=self.c, class_weight=weights, random_state=self.seed)
        else:
            model = LogisticRegression(C=self.c, max_iter=5000, class_weight=weights, random_state=self.seed)
        model.fit(self._features(rows, fit=True), targets)
        self._model = model
        self.labels = [str(label) for label in model.classes_]
        return self

    def rank_normalized(self, normalized: Sequence[str]) -> list[Ranking]:
        """Rankings for texts that already went through :func:`normalize`."""
        if not normalized or self._model is None:
            return [[] for _ in normalized]
        features = self._features(normalized, fit=False)
        if isinstance(self._model, LinearSVC):
            scores = _softmax(self._model.decision_function(features) * self.temperature)
        else:
            scores = self._model.predict_proba(features)
        rankings: list[Ranking] = []
        for row in scores:
            order = np.argsort(-row)
            rankings.append([(self.labels[i], float(row[i])) for i in order])
        return rankings

    def rank(self, texts: Sequence[str]) -> list[Ranking]:
        return self.rank_normalized([normalize(text) for text in texts])
