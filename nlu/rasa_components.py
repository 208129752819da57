"""Custom Rasa 3.6 graph components for Vietnamese.

Imported by Rasa (Python 3.10 environment) through ``config.yml``; never by the
main environment. Modelled on Rasa's ``WhitespaceTokenizer`` and
``LogisticRegressionClassifier``.

- ``VietnameseTokenizer`` applies :func:`nlu.normalize.normalize` (the same code the
  answer pipeline runs) and stores the accent-folded form of every token as its lemma.
- ``VietnameseTopicClassifier`` wraps :class:`nlu.textclf.TopicClassifier`, which adds
  folded features and stripped copies of the training questions so that text typed
  without diacritics keeps its accuracy. Its settings in ``config.yml`` must match the
  defaults of :class:`~nlu.textclf.TopicClassifier`, which calibration trains in-process
  (a test checks).
"""

from __future__ import annotations

import logging
import pickle
from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.normalize import fold_diacritics, normalize, tokenize
from nlu.textclf import TopicClassifier

logger = logging.getLogger(__name__)

_MODEL_FILE = "topic_classifier.pkl"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Normalises Vietnamese text, then splits it into syllable tokens."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = normalize(message.get(attribute) or "")
        tokens: List[Token] = []
        offset = 0
        for word in tokenize(text):
            start = text.index(word, offset)
            offset = start + len(word)
            tokens.append(Token(word, start, offset, lemma=fold_diacritics(word)))
        return self._apply_token_pattern(tokens)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class VietnameseTopicClassifier(IntentClassifier, GraphComponent):
    """Topic classifier over normalised and accent-folded n-grams."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [VietnameseTokenizer]

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "model": "svm",
            "C": 0.5,
            "temperature": 8.0,
            "out_of_scope_weight": 10.0,
            "random_seed": 42,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: TopicClassifier | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseTopicClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def _normalized_text(message: Message) -> str:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        return " ".join(token.text for token in tokens)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.warning("No intent examples; the topic classifier was not trained.")
            return self._resource
        classifier = TopicClassifier(
            model=self.config["model"],
            c=float(self.config["C"]),
            temperature=float(self.config["temperature"]),
            out_of_scope_weight=float(self.config["out_of_scope_weight"]),
            seed=int(self.config["random_seed"]),
        )
        classifier.fit_normalized([self._normalized_text(e) for e in examples], [e.get(INTENT) for e in examples])
        self._classifier = classifier
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / _MODEL_FILE).write_bytes(pickle.dumps(classifier))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "VietnameseTopicClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                # Our own artefact, written by train() above into Rasa's model archive.
                classifier = pickle.loads((model_dir / _MODEL_FILE).read_bytes())
        except (ValueError, FileNotFoundError):
            logger.warning("No trained topic classifier in the model; predictions are empty.")
            classifier = None
        return cls(config, model_storage, resource, classifier)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._classifier is None:
            return messages
        texts = [self._normalized_text(message) for message in messages]
        rankings = self._classifier.rank_normalized(texts)
        limit = int(self.config["ranking_length"])
        for message, ranking in zip(messages, rankings, strict=True):
            ranked = [{"name": name, "confidence": score} for name, score in ranking[:limit]]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set("intent_ranking", ranked, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
