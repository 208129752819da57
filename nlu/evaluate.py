"""``python -m nlu evaluate QUESTIONS.yaml``: our pipeline against two baselines, same data.

Every run also reports on the blind set (``BLIND_QUESTIONS``: written apart from training
from the topics' scope lines only; never read by training or calibration), next to the given
set. Questions may carry a ``kind`` (description, telex, abbreviation, long, near_miss, …):
figures are printed per kind, with the topic pairs most often confused.

- ours: normalise → the Rasa server (our Vietnamese pipeline; long messages also sentence by
  sentence, ``nlu.reading``) → calibrated decision;
- baseline (a): Rasa's default-style pipeline (WhitespaceTokenizer, word and char_wb 1–4
  CountVectorsFeaturizers, DIETClassifier), trained on the same generated data, with
  the decision of Rasa's FallbackClassifier at its default threshold 0.3;
- baseline (b): TF-IDF character n-grams (char_wb 1–4) + logistic regression on the
  raw lower-cased text, answer threshold calibrated like ours on cross-validation.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.calibration import Scored, utility
from nlu.client import RasaClient
from nlu.decision import OUT_OF_SCOPE, Decision, Thresholds, Verdict, decide
from nlu.normalize import has_diacritics, normalize
from nlu.reading import combine, parts
from nlu.server import LocalRasaServer, current_model
from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import (
    BASELINE_CONFIG,
    RASA_PROJECT,
    SEED,
    fingerprint,
    load_examples,
    rasa_environment,
    train_rasa_model,
    write_rasa_data,
)

Ranking = list[tuple[str, float]]
RASA_FALLBACK_THRESHOLD = 0.3
BLIND_QUESTIONS = PROJECT_ROOT / "nlu" / "eval" / "blind_questions.yaml"
NO_DIACRITICS = "no_diacritics (any)"


@dataclass(frozen=True)
class Question:
    text: str
    topic: str | None
    kind: str | None = None


@dataclass
class Report:
    name: str
    verdicts: list[Verdict]
    questions: list[Question]
    top1: list[str] = field(default_factory=list)

    def _indices(self, predicate: Callable[[Question], bool]) -> list[int]:
        return [i for i, q in enumerate(self.questions) if predicate(q)]

    def correct(self, index: int) -> bool:
        verdict, question = self.verdicts[index], self.questions[index]
        return verdict.decision is Decision.ANSWER and verdict.topic == question.topic

    def wrong(self, index: int) -> bool:
        verdict, question = self.verdicts[index], self.questions[index]
        return verdict.decision is Decision.ANSWER and verdict.topic != question.topic

    def figures(self) -> dict[str, float]:
        in_scope = self._indices(lambda q: q.topic is not None)
        plain = self._indices(lambda q: q.topic is not None and not has_diacritics(q.text))
        oos = self._indices(lambda q: q.topic is None)
        everything = range(len(self.questions))
        clarified = [i for i in in_scope if self.verdicts[i].decision is Decision.CLARIFY]
        return {
            "in_scope_correct": rate(sum(self.correct(i) for i in in_scope), in_scope),
            "no_diacritics_correct": rate(sum(self.correct(i) for i in plain), plain),
            "out_of_scope_refused": rate(sum(self.verdicts[i].decision is Decision.UNKNOWN for i in oos), oos),
            "wrong_answers": rate(sum(self.wrong(i) for i in everything), everything),
            "in_scope_clarified": rate(len(clarified), in_scope),
            "clarify_offers_right_topic": rate(
                sum(self.questions[i].topic in self.verdicts[i].candidates for i in clarified), clarified
            ),
            "top1_accuracy": rate(
                sum(self.top1[i] == (self.questions[i].topic or OUT_OF_SCOPE) for i in everything),
                everything,
            ),
            "in_scope": len(in_scope),
            "no_diacritics": len(plain),
            "out_of_scope": len(oos),
        }

    def handled(self, index: int) -> bool:
        """Right: the topic answered, or an out-of-scope question refused."""
        if self.questions[index].topic is None:
            return self.verdicts[index].decision is Decision.UNKNOWN
        return self.correct(index)

    def figures_by_kind(self) -> dict[str, tuple[float, int]]:
        """Share handled right per question kind, and for every question typed without diacritics."""
        groups: dict[str, list[int]] = defaultdict(list)
        for i, question in enumerate(self.questions):
            if question.kind:
                groups[question.kind].append(i)
            if not has_diacritics(question.text):
                groups[NO_DIACRITICS].append(i)
        return {
            kind: (rate(sum(map(self.handled, items)), items), len(items)) for kind, items in sorted(groups.items())
        }

    def confusions(self, top: int = 10) -> list[tuple[str, str, int]]:
        """(expected, top-ranked instead, count) for the pairs most often mixed up."""
        pairs = Counter(
            (q.topic or OUT_OF_SCOPE, self.top1[i])
            for i, q in enumerate(self.questions)
            if self.top1 and self.top1[i] != (q.topic or OUT_OF_SCOPE)
        )
        return [(expected, got, n) for (expected, got), n in pairs.most_common(top)]

    def errors_by_topic(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = defaultdict(list)
        for i, (verdict, question) in enumerate(zip(self.verdicts, self.questions, strict=True)):
            if question.topic is None:
                if verdict.decision is Decision.UNKNOWN:
                    continue
            elif self.correct(i):
                continue
            outcome = (
                f"answered {verdict.topic}"
                if verdict.decision is Decision.ANSWER
                else f"clarify {verdict.candidates}"
                if verdict.decision is Decision.CLARIFY
                else "unknown"
            )
            errors[question.topic or OUT_OF_SCOPE].append(f"{outcome} ({verdict.confidence:.2f}): {question.text}")
        return dict(errors)


def rate(hits: int, pool: Sequence[object]) -> float:
    return hits / len(pool) if pool else 0.0


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    questions = []
    for item in items:
        topic = item.get("topic")
        questions.append(
            Question(str(item["text"]), None if topic in (None, OUT_OF_SCOPE) else str(topic), item.get("kind"))
        )
    return questions


def report_from_rankings(
    name: str, questions: list[Question], rankings: Sequence[Ranking], thresholds: Thresholds
) -> Report:
    verdicts = [decide(ranking, thresholds) for ranking in rankings]
    return Report(name, verdicts, questions, [r[0][0] if r else OUT_OF_SCOPE for r in rankings])


async def rank_with_rasa(url: str, token: str, texts: Sequence[str], timeout: float) -> list[Ranking]:
    async with httpx.AsyncClient() as http:
        client = RasaClient(url, token, timeout=max(timeout, 10.0), http=http)
        limit = asyncio.Semaphore(16)

        async def parse(text: str) -> Ranking:
            async with limit:
                return await client.parse(normalize(text))

        async def one(text: str) -> Ranking:
            """Read as the answer pipeline reads: long messages sentence by sentence too."""
            whole, *readings = await asyncio.gather(parse(text), *(parse(part) for part in parts(text)))
            return combine(whole, readings)

        return list(await asyncio.gather(*(one(text) for text in texts)))


def rank_ours(settings: NluSettings, texts: Sequence[str]) -> list[Ranking]:
    if settings.rasa_servers():
        token = settings.rasa_token.get_secret_value()
        return asyncio.run(rank_with_rasa(settings.rasa_servers()[0], token, texts, settings.rasa_timeout_seconds))
    with LocalRasaServer(settings) as server:
        return asyncio.run(rank_with_rasa(server.url, server.token, texts, settings.rasa_timeout_seconds))


def rank_diet_baseline(
    settings: NluSettings, examples: Mapping[str, Sequence[str]], texts: Sequence[str]
) -> list[Ranking]:
    fp = fingerprint(examples, BASELINE_CONFIG, sources=[PROJECT_ROOT / "nlu" / "requirements.txt"])
    out_dir = settings.model_dir / "baselines"
    model = out_dir / f"diet-{fp[:12]}.tar.gz"
    if not model.exists():
        print("  training baseline (a), Rasa default-style DIET pipeline (cached afterwards) ...", flush=True)
        data = RASA_PROJECT / "data" / "nlu_baseline.yml"
        write_rasa_data(examples, data)
        train_rasa_model(settings, BASELINE_CONFIG, data, out_dir, model.name.removesuffix(".tar.gz"))
    python = settings.rasa_env / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rankings.json"
        subprocess.run(
            [str(python), "-m", "nlu.rasa_predict", str(model), str(out)],
            input=json.dumps(list(texts)),
            capture_output=True,
            text=True,
            env=rasa_environment(),
            check=True,
        )
        rankings = json.loads(out.read_text(encoding="utf-8"))
    return [[(str(n), float(c)) for n, c in ranking] for ranking in rankings]


class CharNgramBaseline:
    """Baseline (b): what a careful engineer gets from scikit-learn alone."""

    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
        self.model = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced", random_state=SEED)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> CharNgramBaseline:
        self.model.fit(self.vectorizer.fit_transform([t.lower() for t in texts]), list(labels))
        return self

    def rank(self, texts: Sequence[str]) -> list[Ranking]:
        probabilities = self.model.predict_proba(self.vectorizer.transform([t.lower() for t in texts]))
        classes = [str(c) for c in self.model.classes_]
        return [sorted(zip(classes, map(float, row), strict=True), key=lambda p: -p[1]) for row in probabilities]


def _answer_only_thresholds(samples: Sequence[Scored]) -> Thresholds:
    best = max(
        (Thresholds(t / 100, 0.0, 1.01, 1.01) for t in range(5, 95)),
        key=lambda th: utility(samples, th),
    )
    return best


def char_ngram_baseline(
    examples: Mapping[str, Sequence[str]], texts: Sequence[str]
) -> tuple[list[Ranking], Thresholds]:
    pairs = [(intent, text) for intent, items in examples.items() for text in items]
    # Same 5-fold protocol as ours to pick its answer threshold.
    folds: list[list[tuple[str, str]]] = [pairs[i::5] for i in range(5)]
    samples: list[Scored] = []
    for i, held in enumerate(folds):
        train = [p for j, f in enumerate(folds) if j != i for p in f]
        model = CharNgramBaseline().fit([t for _, t in train], [g for g, _ in train])
        samples += [Scored(g, r) for (g, _), r in zip(held, model.rank([t for _, t in held]), strict=True)]
    thresholds = _answer_only_thresholds(samples)
    model = CharNgramBaseline().fit([t for _, t in pairs], [g for g, _ in pairs])
    return model.rank(texts), thresholds


def leakage(examples: Mapping[str, Sequence[str]], questions: Sequence[Question]) -> int:
    known = {normalize(text) for items in examples.values() for text in items}
    return sum(normalize(q.text) in known for q in questions)


def _print_report(report: Report, thresholds: Thresholds, *, details: bool) -> None:
    f = report.figures()
    print(f"\n== {report.name} ==  thresholds {thresholds.to_dict()}")
    print(f"  in-scope answered correctly : {f['in_scope_correct']:6.1%}  (of {f['in_scope']:.0f})")
    print(f"  no-diacritics subset        : {f['no_diacritics_correct']:6.1%}  (of {f['no_diacritics']:.0f})")
    print(f"  out-of-scope refused        : {f['out_of_scope_refused']:6.1%}  (of {f['out_of_scope']:.0f})")
    print(f"  wrong answers (all)         : {f['wrong_answers']:6.1%}")
    print(
        f"  in-scope clarified          : {f['in_scope_clarified']:6.1%}  "
        f"(right topic offered in {f['clarify_offers_right_topic']:.0%} of them)"
    )
    print(f"  top-1 intent accuracy       : {f['top1_accuracy']:6.1%}")
    kinds = report.figures_by_kind()
    if kinds:
        print("  handled right, by kind: " + ", ".join(f"{k} {r:.1%} (of {n})" for k, (r, n) in kinds.items()))
    confused = report.confusions()
    if details and confused:
        print("  most confused (expected → ranked first): " + "; ".join(f"{e} → {g} ×{n}" for e, g, n in confused))
    errors = report.errors_by_topic()
    print(f"  errors per topic: {sum(map(len, errors.values()))} in {len(errors)} topics")
    for topic in sorted(errors):
        print(f"    {topic}: {len(errors[topic])}")
        if details:
            for line in errors[topic]:
                print(f"      - {line}")


def evaluate(settings: NluSettings, questions_path: Path, *, baselines: bool, json_out: Path | None) -> int:
    questions = load_questions(questions_path)
    examples = load_examples(settings.training_examples)
    manifest = current_model(settings)
    texts = [q.text for q in questions]
    print(f"{len(questions)} questions from {questions_path}; model {manifest.model_file}")
    overlap = leakage(examples, questions)
    if overlap:
        print(f"warning: {overlap} evaluation questions are also training examples")
    reports: list[tuple[Report, Thresholds]] = []
    ours = report_from_rankings(
        "ours: Vietnamese pipeline on Rasa", questions, rank_ours(settings, texts), manifest.calibration.rasa
    )
    reports.append((ours, manifest.calibration.rasa))
    if baselines:
        diet = Thresholds(RASA_FALLBACK_THRESHOLD, 0.0, 1.01, 1.01)
        reports.append(
            (
                report_from_rankings(
                    "baseline (a): Rasa default-style DIET pipeline",
                    questions,
                    rank_diet_baseline(settings, examples, texts),
                    diet,
                ),
                diet,
            )
        )
        rankings, char_thresholds = char_ngram_baseline(examples, texts)
        reports.append(
            (
                report_from_rankings(
                    "baseline (b): TF-IDF char n-grams + logistic regression", questions, rankings, char_thresholds
                ),
                char_thresholds,
            )
        )
    for index, (report, thresholds) in enumerate(reports):
        _print_report(report, thresholds, details=index == 0)
    if len(reports) > 1:
        print("\n== summary ==")
        names = ["in_scope_correct", "no_diacritics_correct", "out_of_scope_refused", "wrong_answers"]
        print(f"  {'':55s}" + "".join(f"{n[:20]:>22s}" for n in names))
        for report, _ in reports:
            f = report.figures()
            print(f"  {report.name[:55]:55s}" + "".join(f"{f[n]:>22.1%}" for n in names))
    if json_out:
        json_out.write_text(
            json.dumps(
                {r.name: {"figures": r.figures(), "errors": r.errors_by_topic()} for r, _ in reports},
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    decisions = Counter(v.decision.value for v in ours.verdicts)
    print(f"\nours, decisions: {dict(decisions)}")
    return 0


def main_evaluate(settings: NluSettings, path: Path, baselines: bool, json_out: Path | None) -> int:
    """The given set, then the blind set (unless it was the one given)."""
    try:
        status = evaluate(settings, path, baselines=baselines, json_out=json_out)
        if BLIND_QUESTIONS.exists() and path.resolve() != BLIND_QUESTIONS.resolve():
            print(f"\n\n######## blind set: {BLIND_QUESTIONS.relative_to(PROJECT_ROOT)} ########")
            blind_json = json_out.with_name(f"blind-{json_out.name}") if json_out else None
            status = max(status, evaluate(settings, BLIND_QUESTIONS, baselines=baselines, json_out=blind_json))
        return status
    except (OSError, KeyError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
