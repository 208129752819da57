"""Ablation of the issue-8 changes, on the dev set and the blind set, in one run.

Each row adds one change to the row above and is trained, calibrated and measured the same
way ``python -m nlu train`` does it (in-process, the same TopicClassifier Rasa runs):
thresholds from 5-fold cross-validation plus the calibration sets, never from the dev or
blind sets. Rows:

1. normaliser alone: the knowledge base before issue 8 (git ``BASE_COMMIT``, decontaminated
   against the dev and blind sets like today's), logistic
   regression, no Telex decoding, no lexicon, messages read whole;
2. + Telex/VNI decoding;
3. + the lexicon (``nlu/lexicon.yaml``);
4. + long-message handling (``nlu.reading``);
5. + targeted training questions (the knowledge base at git ``FIRST_ROUND_COMMIT``);
6. + model change: linear SVM with softmax scores, out_of_scope weighted ×4;
7. + a second round of targeted questions for the confusable pairs (the knowledge base as it
   is now);
8. + out_of_scope weighted ×10 (= ours).

Extra rows show changes that were tried and not kept: the knowledge base's own titles and
summaries as extra training questions, and descriptive concept phrases in the lexicon
(``bench/lexicon_concepts_tried.yaml``). Switches are applied by replacing functions of the
normaliser and of ``nlu.reading`` in this process only.

    .venv/bin/python bench/nlu_ablation.py [--workers 2] [--rows 1,2,3,4,5,6,7,8,9,10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nlu.normalize as normalizer
import nlu.reading as reading
from knowledge.content_files import load_content
from nlu import lexicon as lexicon_module
from nlu.calibration import choose_thresholds, cross_validated, held_out_rankings
from nlu.decision import OUT_OF_SCOPE, Thresholds
from nlu.evaluate import BLIND_QUESTIONS, Question, Report, load_questions, report_from_rankings
from nlu.reading import rank_messages
from nlu.settings import PROJECT_ROOT
from nlu.textclf import TopicClassifier
from nlu.training import CALIBRATION_FILES, classifier_settings, load_calibration_questions
from scripts.decontaminate import held_out_keys, repeats

BASE_COMMIT = "f7fa5b7"  # the knowledge base and model before issue 8's model work
FIRST_ROUND_COMMIT = "9902c39"  # the knowledge base after the first round of targeted questions
DEV_QUESTIONS = PROJECT_ROOT.parent / "shared" / "spec" / "dev-questions.yaml"
CONCEPTS_TRIED = Path(__file__).with_name("lexicon_concepts_tried.yaml")
FIGURES = ("in_scope_correct", "no_diacritics_correct", "out_of_scope_refused", "wrong_answers")
OLD_MODEL: dict[str, Any] = {"model": "logistic", "c": 20.0, "out_of_scope_weight": 1.0}


@dataclass(frozen=True)
class Row:
    name: str
    telex: bool
    lexicon: Path | None
    long_messages: bool
    content: str | None  # a git commit of knowledge/content, or None for the working tree
    model: dict[str, Any]
    titles_and_summaries: bool = False


def rows(ours: dict[str, Any]) -> list[Row]:
    lexicon_file = lexicon_module.LEXICON_FILE
    svm_x4 = {**ours, "out_of_scope_weight": 4.0}  # the model of the first round
    return [
        Row("1 normaliser alone", False, None, False, BASE_COMMIT, OLD_MODEL),
        Row("2 + Telex decoding", True, None, False, BASE_COMMIT, OLD_MODEL),
        Row("3 + lexicon", True, lexicon_file, False, BASE_COMMIT, OLD_MODEL),
        Row("4 + long-message handling", True, lexicon_file, True, BASE_COMMIT, OLD_MODEL),
        Row("5 + targeted training questions", True, lexicon_file, True, FIRST_ROUND_COMMIT, OLD_MODEL),
        Row("6 + linear SVM, out_of_scope x4", True, lexicon_file, True, FIRST_ROUND_COMMIT, svm_x4),
        Row("7 + confusable pairs, round 2", True, lexicon_file, True, None, svm_x4),
        Row("8 + out_of_scope x10 (ours)", True, lexicon_file, True, None, ours),
        Row("9 ours + titles, summaries (not kept)", True, lexicon_file, True, None, ours, True),
        Row("10 ours + concept phrases (not kept)", True, CONCEPTS_TRIED, True, None, ours),
    ]


def content_at(commit: str | None) -> dict[str, list[str]]:
    """Training examples of the knowledge base at ``commit`` (None: as it is now)."""
    if commit is None:
        return load_content(PROJECT_ROOT / "knowledge" / "content").training_examples()
    with tempfile.TemporaryDirectory() as tmp:
        folder = PROJECT_ROOT / "knowledge" / "content"
        for path in folder.glob("*.yaml"):
            if path.name == "curated.yaml":
                continue  # examples curated in a running bot are not part of any committed "before"
            shown = subprocess.run(
                ["git", "show", f"{commit}:{path.relative_to(PROJECT_ROOT)}"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            (Path(tmp) / path.name).write_text(shown.stdout, encoding="utf-8")
        examples = load_content(Path(tmp)).training_examples()
    # Decontaminated like today's content (scripts/decontaminate.py against both sets), so that
    # no row is flattered by near-repeats of evaluation questions.
    held_out = held_out_keys(DEV_QUESTIONS) + held_out_keys(BLIND_QUESTIONS)
    return {intent: [t for t in texts if not repeats(t, held_out)] for intent, texts in examples.items()}


def with_titles_and_summaries(examples: dict[str, list[str]]) -> dict[str, list[str]]:
    """``examples`` plus each topic's title and summary as weak extra questions (decontaminated)."""
    held_out = held_out_keys(DEV_QUESTIONS) + held_out_keys(BLIND_QUESTIONS)
    extended = {intent: list(texts) for intent, texts in examples.items()}
    for record in load_content(PROJECT_ROOT / "knowledge" / "content").topics:
        for text in (record.entry.title, record.entry.summary):
            if not repeats(text, held_out):
                extended.setdefault(record.entry.id, []).append(text)
    return extended


def row_examples(row: Row) -> dict[str, list[str]]:
    examples = content_at(row.content)
    return with_titles_and_summaries(examples) if row.titles_and_summaries else examples


def configure(row: Row) -> None:
    """Switch the normaliser's steps and the long-message reading on or off for ``row``."""
    lexicon_module.lexicon.cache_clear()
    chosen = row.lexicon
    switched = vars(normalizer)
    switched["decode_token"] = original_decode if row.telex else (lambda token: token)
    switched["lexicon"] = (
        (lambda: lexicon_module.lexicon(chosen)) if chosen else (lambda: lexicon_module.Lexicon((), {}))
    )
    vars(reading)["parts"] = original_parts if row.long_messages else (lambda text: [])


original_decode: Callable[[str], str] = vars(normalizer)["decode_token"]
original_parts: Callable[[str], list[str]] = reading.parts


def measure(row: Row, examples: dict[str, list[str]], workers: int) -> tuple[Thresholds, float, float, Report, Report]:
    configure(row)
    started = time.monotonic()
    calibration = [pair for path in CALIBRATION_FILES for pair in load_calibration_questions(path, examples)]
    folds = cross_validated(examples, settings=row.model, workers=workers)
    held_out, _ = held_out_rankings(examples, calibration, settings=row.model)
    thresholds, utility = choose_thresholds(folds + held_out, pooled=True)
    pairs = [(intent, text) for intent, texts in examples.items() for text in texts]
    fit_started = time.monotonic()
    classifier = TopicClassifier(**row.model).fit([t for _, t in pairs], [i for i, _ in pairs])
    fit_seconds = time.monotonic() - fit_started
    reports = []
    for name, path in (("dev", DEV_QUESTIONS), ("blind", BLIND_QUESTIONS)):
        questions: list[Question] = load_questions(path)
        rankings = rank_messages([q.text for q in questions], classifier.rank_normalized)
        reports.append(report_from_rankings(name, questions, rankings, thresholds))
    print(f"  ({row.name}: calibration and fit {time.monotonic() - started:.0f} s)", flush=True)
    return thresholds, utility, fit_seconds, reports[0], reports[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", default="1,2,3,4,5,6,7,8,9,10")
    args = parser.parse_args()
    wanted = {int(n) for n in args.rows.split(",")}
    ours = classifier_settings()
    results = []
    for index, row in enumerate(rows(ours), start=1):
        if index in wanted:
            examples = row_examples(row)
            print(f"{row.name}: {sum(map(len, examples.values()))} examples", flush=True)
            results.append((row, *measure(row, examples, args.workers)))
    header = f"{'':42s}{'util':>6s} {'fit s':>6s} | {'dev in':>6s} {'nod':>6s} {'oos':>6s} {'wrong':>6s} |"
    header += f" {'blind in':>8s} {'nod':>6s} {'oos':>6s} {'wrong':>6s}"
    print("\n" + header)
    for row, _thresholds, utility, fit_seconds, dev, blind in results:
        d, b = dev.figures(), blind.figures()
        line = f"{row.name:42s}{utility:6.3f} {fit_seconds:6.1f} | "
        line += " ".join(
            f"{d[k]:6.1%}"
            for k in ("in_scope_correct", "no_diacritics_correct", "out_of_scope_refused", "wrong_answers")
        )
        line += (
            " | "
            + f"{b['in_scope_correct']:8.1%} "
            + " ".join(f"{b[k]:6.1%}" for k in ("no_diacritics_correct", "out_of_scope_refused", "wrong_answers"))
        )
        print(line)
    print("\nblind set, handled right by kind:")
    kinds = sorted({k for *_, blind in results for k in blind.figures_by_kind()})
    short = {"no_diacritics (any)": "no-diac (all)", "no_diacritics": "no-diac kind", "abbreviation": "abbreviation"}
    print(f"{'':42s}" + "".join(f"{short.get(k, k)[:13]:>14s}" for k in kinds))
    for row, *_, blind in results:
        by_kind = blind.figures_by_kind()
        print(f"{row.name:42s}" + "".join(f"{by_kind.get(k, (0.0, 0))[0]:14.1%}" for k in kinds))
    print("\nthresholds: " + "; ".join(f"{row.name.split()[0]}: {th.answer}/{th.clarify}" for row, th, *_ in results))
    print(f"(out_of_scope label: {OUT_OF_SCOPE}; utility = mean per calibration ranking, see nlu/calibration.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
