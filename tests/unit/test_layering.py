"""The house rules a newcomer relies on, checked on the source itself.

- Only ``bot/`` imports ``telegram``; the data packages, ``nlu/``, ``answering/`` and ``texts``
  never import ``telegram`` or ``bot`` (imports point one way: Telegram → plain code).
- No source file is over about 400 lines unless its first lines say why.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAIN_PACKAGES = (
    "storage",
    "knowledge",
    "records",
    "broadcasts",
    "nlu",
    "answering",
    "texts",
    "markup",
    "support",
    "stats",
    "curation",
    "learning",
    "coordination",
)
FORBIDDEN = ("telegram", "bot")
MAX_LINES = 400
SIZE_REASON = "longer than 400 lines because"


def _python_files(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        files += [p for p in (ROOT / folder).rglob("*.py") if "rasa_project" not in p.parts]
    return sorted(files)


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", _python_files(*PLAIN_PACKAGES), ids=lambda p: str(p.relative_to(ROOT)))
def test_plain_packages_never_import_telegram_or_bot(path: Path) -> None:
    assert not _imported_roots(path) & set(FORBIDDEN)


def test_the_checks_see_the_packages() -> None:
    for package in PLAIN_PACKAGES:
        assert _python_files(package), package
    assert "telegram" in _imported_roots(ROOT / "bot" / "app.py")  # the parser does find imports


@pytest.mark.parametrize(
    "path", _python_files("bot", *PLAIN_PACKAGES, "tests", "bench", "scripts"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_source_files_stay_short_or_say_why(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) > MAX_LINES:
        head = "\n".join(lines[:15]).lower()
        assert SIZE_REASON in head, f"{len(lines)} lines and no '{SIZE_REASON} …' at the top"
