"""Remove training examples that (nearly) repeat a question of an evaluation set.

Keeps ``python -m nlu evaluate`` honest: content writers never saw the evaluation
questions, but short questions ("Voso là gì") are often written the same way by
different people. Run after adding examples; it edits the content files in place.

    .venv/bin/python scripts/decontaminate.py ../shared/spec/dev-questions.yaml [--ratio 0.8]
    .venv/bin/python scripts/decontaminate.py nlu/eval/blind_questions.yaml
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.validation import example_key

CONTENT = Path(__file__).resolve().parents[1] / "knowledge" / "content"


def repeats(text: str, held_out: list[str], ratio: float = 0.8) -> bool:
    """Whether ``text`` is at least ``ratio`` similar to one of the ``held_out`` keys (``example_key``)."""
    key = example_key(text)
    return any(difflib.SequenceMatcher(None, key, q).ratio() >= ratio for q in held_out)


def held_out_keys(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [example_key(str(q["text"])) for q in data["questions"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--ratio", type=float, default=0.8, help="similarity at or above which an example goes")
    args = parser.parse_args()
    held_out = held_out_keys(args.questions)
    removed = 0
    for path in sorted(CONTENT.glob("*.yaml")):
        if path.name == "domains.yaml":
            continue
        kept = []
        for line in path.read_text(encoding="utf-8").split("\n"):
            item = re.match(r"^\s*- (.*)$", line)
            try:
                value = yaml.safe_load(item.group(1)) if item else None
            except yaml.YAMLError:  # a list line inside an answer block, not an example
                value = None
            if isinstance(value, str) and repeats(value, held_out, args.ratio):
                print(f"{path.name}: removed {value!r}")
                removed += 1
                continue
            kept.append(line)
        path.write_text("\n".join(kept), encoding="utf-8")
    calibration = CONTENT.parents[1] / "nlu" / "calibration_questions.yaml"
    if calibration.exists():
        items = yaml.safe_load(calibration.read_text(encoding="utf-8"))["questions"]
        kept_items = []
        for item in items:
            if repeats(str(item["text"]), held_out, args.ratio):
                print(f"{calibration.name}: removed {item['text']!r}")
                removed += 1
            else:
                kept_items.append(item)
        if len(kept_items) != len(items):
            header = "# Calibration set: realistic questions never used for training; thresholds are tuned on it.\n"
            body = yaml.safe_dump({"questions": kept_items}, allow_unicode=True, sort_keys=False, width=1000)
            calibration.write_text(header + body, encoding="utf-8")
    print(f"{removed} example(s) removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
