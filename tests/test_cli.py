"""``python -m bot ask`` and ``ask --jsonl``: the JSON-lines contract, stdout carrying only JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

KEYS = {"text", "decision", "topic", "candidates", "confidence", "answer"}


def run_bot(
    args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=timeout,
        check=False,
    )


def test_ask_jsonl_contract(cli_env: dict[str, str]) -> None:
    questions = [
        "kich hoat vneid muc 2 o dau",
        "Giá vàng hôm nay bao nhiêu?",
        "",
        "onetouch",
        'câu có "ngoặc kép" và \\ gạch chéo, nộp phạt giao thông online',
    ]
    result = run_bot(["ask", "--jsonl"], cli_env, stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    replies = [json.loads(line) for line in lines]
    for question, reply in zip(questions, replies, strict=True):
        assert set(reply) == KEYS
        assert reply["text"] == question
        assert reply["decision"] in {"answer", "clarify", "unknown"}
        assert isinstance(reply["confidence"], float) and 0.0 <= reply["confidence"] <= 1.0
        assert isinstance(reply["answer"], str) and reply["answer"]
        if reply["decision"] == "answer":
            assert reply["topic"] and reply["candidates"] == [reply["topic"]]
        else:
            assert reply["topic"] is None
        if reply["decision"] == "clarify":
            assert 2 <= len(reply["candidates"]) <= 3
        if reply["decision"] == "unknown":
            assert reply["candidates"] == []
    assert (replies[0]["decision"], replies[0]["topic"]) == ("answer", "vneid_kich_hoat")
    assert replies[1]["decision"] == "unknown"
    assert replies[2]["decision"] == "unknown"
    assert replies[3]["decision"] == "clarify"
    assert (replies[4]["decision"], replies[4]["topic"]) == ("answer", "dvc_phat_giao_thong")


def test_ask_prints_the_answer(cli_env: dict[str, str]) -> None:
    result = run_bot(["ask", "Thẻ căn cước công dân cũ còn dùng được không?"], cli_env)
    assert result.returncode == 0, result.stderr
    assert "01/7/2024" in result.stdout or "1/7/2024" in result.stdout
    assert "<b>" not in result.stdout  # plain text on the console


@pytest.mark.slow
def test_ask_starts_its_own_rasa_when_none_is_configured(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if not k.startswith("RASA_")}
    env["RASA_URL"] = ""  # explicit: nothing configured, and no .env can fill it in
    before = rasa_processes()
    result = run_bot(["ask", "--jsonl"], env, stdin="dang ky tam tru tren vneid the nao\n", timeout=300)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert (reply["decision"], reply["topic"]) == ("answer", "dvc_cu_tru")
    assert "starting a local Rasa server" in result.stderr
    # The local server was stopped on exit: no rasa process is left behind.
    assert rasa_processes() == before


def rasa_processes() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "rasa run --enable-api"], capture_output=True, text=True, check=False)
    return set(found.stdout.split())
