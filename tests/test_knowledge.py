"""Content validation by the CLI (with clear errors on broken files); the exported knowledge base validates."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from knowledge.content_files import load_content, write_content
from knowledge.repository import KnowledgeRepository
from knowledge.validation import load_spec, validate
from storage.engine import session_factory
from tests.conftest import CONTENT_DIR, PROJECT_ROOT
from tests.conftest import TOPICS_SPEC as SPEC


def run_validate(content_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", "--content", str(content_dir), "--spec", str(SPEC), "validate"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )


def test_curated_content_is_valid() -> None:
    result = run_validate(CONTENT_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 49 topics")


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit_topic(content_dir: Path, file: str, topic_id: str, **changes: object) -> None:
    path = content_dir / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for topic in data["topics"]:
        if topic["id"] == topic_id:
            topic.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_yaml_syntax_error_names_file_and_line(broken_copy: Path) -> None:
    path = broken_copy / "attt.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "  - id: [unclosed")
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run_validate(broken_copy)
    assert result.returncode == 1
    assert "attt.yaml: line" in result.stdout and "not valid YAML" in result.stdout


def test_each_kind_of_problem_is_reported_by_file_and_entry(broken_copy: Path) -> None:
    edit_topic(broken_copy, "dvc.yaml", "vneid_muc_2", answer="Ra xã làm nhé & mang <br> giấy tờ.")
    edit_topic(broken_copy, "dvc.yaml", "vneid_kich_hoat", answer="x" * 4100 + " otp passcode")
    edit_topic(broken_copy, "tmdt.yaml", "tmdt_voso", related=["tmdt_postmart", "khong_co_topic_nay"])
    edit_topic(
        broken_copy,
        "tmdt.yaml",
        "tmdt_postmart",
        examples=["Voso là sàn của ai vậy?"] * 1 + [f"câu hỏi postmart số {i}" for i in range(20)],
    )
    edit_topic(
        broken_copy,
        "tmdt.yaml",
        "tmdt_voso",
        examples=["voso la san cua ai vay"] + [f"câu hỏi voso số {i}" for i in range(20)],
    )
    edit_topic(broken_copy, "attt.yaml", "attt_deepfake", id="attt_bi_gia_mao")
    result = run_validate(broken_copy)
    out = result.stdout
    assert result.returncode == 1
    assert "dvc.yaml: vneid_muc_2: answer HTML: tag <br> is not supported by Telegram" in out
    assert "dvc.yaml: vneid_muc_2: answer HTML: unescaped '&'" in out
    assert "dvc.yaml: vneid_muc_2: answer must mention 'công an'" in out
    assert "dvc.yaml: vneid_kich_hoat: answer is 4113 characters; the limit is 4096" in out
    assert "tmdt.yaml: tmdt_voso: related id 'khong_co_topic_nay' does not exist" in out
    assert "tmdt.yaml: tmdt_voso: example 'voso la san cua ai vay' is also under tmdt_postmart" in out
    assert "attt.yaml: attt_bi_gia_mao: unknown topic id (not in topics.yaml)" in out
    assert "attt.yaml: attt_deepfake: topic of topics.yaml has no entry" in out


async def test_the_exported_knowledge_base_is_valid_content(engine: AsyncEngine, tmp_path: Path) -> None:
    """The import's idempotence and the export round trip: tests/test_database_backends.py (SQLite, PostgreSQL)."""
    async with session_factory(engine)() as session:
        exported = await KnowledgeRepository(session).export_content()
    write_content(exported, tmp_path / "export")
    reloaded = load_content(tmp_path / "export")
    assert reloaded.problems == []
    assert validate(reloaded, load_spec(SPEC)) == []
