"""``python -m nlu train``: generate Rasa data, train, calibrate; skip when nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.calibration import choose_thresholds, cross_validated, held_out_rankings, leave_one_out_lexical
from nlu.decision import OUT_OF_SCOPE, Calibration
from nlu.settings import PROJECT_ROOT, NluSettings

RASA_PROJECT = PROJECT_ROOT / "nlu" / "rasa_project"
CALIBRATION_QUESTIONS = PROJECT_ROOT / "nlu" / "calibration_questions.yaml"
CALIBRATION_FILES = (CALIBRATION_QUESTIONS, PROJECT_ROOT / "nlu" / "calibration_blind.yaml")
CONFIG = RASA_PROJECT / "config.yml"
BASELINE_CONFIG = RASA_PROJECT / "config_baseline.yml"
MANIFEST = "manifest.json"
SEED = 42
# Everything that changes the trained model or its thresholds.
_FINGERPRINTED_SOURCES = [
    PROJECT_ROOT / "nlu" / name
    for name in (
        "normalize.py",
        "telex.py",
        "reading.py",
        "lexicon.py",
        "lexicon.yaml",
        "textclf.py",
        "rasa_components.py",
        "calibration.py",
        "decision.py",
        "lexical.py",
        "requirements.txt",
        "calibration_questions.yaml",
        "calibration_blind.yaml",
    )
    if (PROJECT_ROOT / "nlu" / name).exists()
]


class TrainingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Manifest:
    """What ``models/manifest.json`` records about the current model."""

    fingerprint: str
    model_file: str
    calibration: Calibration
    notes: dict[str, object]

    @classmethod
    def load(cls, model_dir: Path) -> Manifest | None:
        path = model_dir / MANIFEST
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            fingerprint=data["fingerprint"],
            model_file=data["model_file"],
            calibration=Calibration.from_dict(data["calibration"]),
            notes=dict(data.get("notes", {})),
        )

    def save(self, model_dir: Path) -> None:
        data = {
            "fingerprint": self.fingerprint,
            "model_file": self.model_file,
            "calibration": self.calibration.to_dict(),
            "notes": self.notes,
        }
        (model_dir / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    def model_path(self, model_dir: Path) -> Path:
        return model_dir / self.model_file


def load_examples(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        raise TrainingError(f"no training examples at {path}; run 'python -m knowledge training-data {path}' first")
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): [str(t) for t in v] for k, v in data["intents"].items()}


def load_calibration_questions(path: Path, examples: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(intent, text) pairs; ``topic: null`` means out_of_scope. Unknown topics are an error."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for item in data.get("questions", []):
        intent = item.get("topic") or OUT_OF_SCOPE
        if intent not in examples:
            raise TrainingError(f"{path.name}: unknown topic {intent!r} for {item.get('text')!r}")
        pairs.append((str(intent), str(item["text"])))
    return pairs


# config.yml key of the topic classifier -> TopicClassifier keyword
_CLASSIFIER_KEYS = {
    "model": "model",
    "C": "c",
    "temperature": "temperature",
    "out_of_scope_weight": "out_of_scope_weight",
}


def classifier_settings(config: Path = CONFIG) -> dict[str, object]:
    """The topic classifier's settings in Rasa's config.yml, as TopicClassifier keywords, so that
    calibration trains in-process exactly the model Rasa trains."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for component in data.get("pipeline") or []:
        if str(component.get("name", "")).endswith("VietnameseTopicClassifier"):
            settings: dict[str, object] = {
                keyword: component[key] for key, keyword in _CLASSIFIER_KEYS.items() if key in component
            }
            settings["seed"] = int(component.get("random_seed", SEED))
            return settings
    raise TrainingError(f"{config.name} has no VietnameseTopicClassifier")


def fingerprint(
    examples: Mapping[str, Sequence[str]], config: Path = CONFIG, sources: Sequence[Path] = _FINGERPRINTED_SOURCES
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(examples, ensure_ascii=False, sort_keys=True).encode())
    for path in [config, *sources]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _rasa_safe(text: str) -> str:
    """Rasa's Markdown-ish syntax treats [..](..) and {..} as entities; drop those marks."""
    return re.sub(r"[\[\]{}()]", " ", text).replace("\n", " ").strip()


def write_rasa_data(examples: Mapping[str, Sequence[str]], path: Path) -> None:
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(examples):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        seen: set[str] = set()
        for text in examples[intent]:
            safe = _rasa_safe(text)
            if safe and safe not in seen:
                seen.add(safe)
                lines.append(f"    - {safe}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rasa_executable(settings: NluSettings) -> Path:
    path = settings.rasa_env / "bin" / "rasa"
    if not path.exists():
        raise TrainingError(f"Rasa is not installed at {settings.rasa_env}; run 'make setup'")
    return path


def rasa_environment() -> dict[str, str]:
    """Environment for Rasa subprocesses: our components importable, no telemetry."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["RASA_TELEMETRY_ENABLED"] = "false"
    # Rasa's training cache keys on component names and config, not on our component code;
    # our own fingerprint decides when to retrain, so the cache is off.
    env["RASA_MAX_CACHE_SIZE"] = "0"
    env["RASA_CACHE_DIRECTORY"] = str(PROJECT_ROOT / "build" / "rasa-cache")
    env["PYTHONHASHSEED"] = str(SEED)
    return env


def _rasa_train_command(settings: NluSettings, config: Path, data: Path, out_dir: Path, name: str) -> list[str]:
    return [
        str(rasa_executable(settings)),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(data),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]


def finish_rasa(process: subprocess.Popen[bytes], model: Path) -> Path:
    returncode = process.wait()
    if returncode != 0 or not model.exists():
        raise TrainingError(f"rasa train failed with exit code {returncode}")
    return model


def start_rasa(
    settings: NluSettings, config: Path, data: Path, out_dir: Path, name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """``rasa train nlu`` as a child process, and the model file it will write."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = _rasa_train_command(settings, config, data, out_dir, name)
    print(f"  $ {' '.join(command)}", flush=True)
    process = subprocess.Popen(command, cwd=RASA_PROJECT, env=rasa_environment())
    return process, out_dir / f"{name}.tar.gz"


def train_rasa_model(settings: NluSettings, config: Path, data: Path, out_dir: Path, name: str) -> Path:
    return finish_rasa(*start_rasa(settings, config, data, out_dir, name))


def calibrate(examples: Mapping[str, Sequence[str]]) -> tuple[Calibration, dict[str, object]]:
    """Thresholds from cross-validation plus the calibration sets (see ``nlu.calibration``)."""
    settings = classifier_settings()
    questions = [pair for path in CALIBRATION_FILES for pair in load_calibration_questions(path, examples)]
    folds = cross_validated(examples, settings=settings, seed=SEED)
    if questions:
        held_out, lexical_samples = held_out_rankings(examples, questions, settings=settings)
    else:
        held_out, lexical_samples = [], leave_one_out_lexical(examples)
    rasa_thresholds, rasa_utility = choose_thresholds(folds + held_out, pooled=bool(questions))
    lexical_thresholds, lexical_utility = choose_thresholds(lexical_samples, pooled=bool(questions))
    notes: dict[str, object] = {
        "calibrated_on": f"5-fold cross-validation ({len(folds)} rankings) + {len(questions)} calibration questions",
        "rasa_utility": round(rasa_utility, 4),
        "lexical_utility": round(lexical_utility, 4),
    }
    return Calibration(rasa=rasa_thresholds, lexical=lexical_thresholds), notes


def train(settings: NluSettings, *, force: bool = False) -> Manifest:
    """Train and calibrate unless the current model already matches data and code.

    Rasa trains in a subprocess while calibration runs here, so the two share the machine's
    cores instead of taking turns.
    """
    examples = load_examples(settings.training_examples)
    print_counts = sum(map(len, examples.values()))
    fp = fingerprint(examples)
    current = Manifest.load(settings.model_dir)
    if not force and current and current.fingerprint == fp and current.model_path(settings.model_dir).exists():
        print(f"NLU model is up to date ({current.model_file}); nothing to train.")
        return current
    if (
        not force
        and current
        and current.notes.get("pinned_by_rollback")
        and current.model_path(settings.model_dir).exists()
    ):
        # A curator rolled back to this model (learning.versions); a restart must not undo that.
        print(f"NLU model {current.model_file} was chosen by a rollback; not retraining (--force to override).")
        return current
    started = time.monotonic()
    print(f"[1/4] {print_counts} examples in {len(examples)} intents (fingerprint {fp[:12]})", flush=True)
    data_path = RASA_PROJECT / "data" / "nlu.yml"
    write_rasa_data(examples, data_path)
    print(f"[2/4] training the Rasa model (seed {SEED}) in the background", flush=True)
    name = f"nlu-{fp[:12]}"
    process, model_path = start_rasa(settings, CONFIG, data_path, settings.model_dir, name)
    try:
        print("[3/4] calibrating thresholds on cross-validation and the calibration sets", flush=True)
        calibration, calibration_notes = calibrate(examples)
    except BaseException:
        process.kill()
        process.wait()
        raise
    model = finish_rasa(process, model_path)
    manifest = Manifest(
        fingerprint=fp,
        model_file=model.name,
        calibration=calibration,
        notes={
            "examples": print_counts,
            "intents": len(examples),
            **calibration_notes,
            "train_seconds": round(time.monotonic() - started, 1),
        },
    )
    manifest.save(settings.model_dir)
    for old in settings.model_dir.glob("nlu-*.tar.gz"):
        if old.name != model.name:
            old.unlink()
    print(f"[4/4] done in {manifest.notes['train_seconds']} s: {model.name}", flush=True)
    print(f"      thresholds rasa={calibration.rasa.to_dict()} lexical={calibration.lexical.to_dict()}")
    return manifest


def main_train(settings: NluSettings, force: bool) -> int:
    try:
        train(settings, force=force)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
