"""``python -m nlu train`` does nothing when neither data nor code changed."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import PROJECT_ROOT


def test_train_skips_when_nothing_changed() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "nlu", "train"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert time.monotonic() - started < 30
