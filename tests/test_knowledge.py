"""Content validation (with clear errors on broken files), idempotent import, export round-trip."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from knowledge.content_files import Content, load_content
from storage.engine import create_engine, create_schema, session_factory
from knowledge.repository import KnowledgeRepository
from knowledge.settings import KnowledgeSettings
from broadcasts.html import html_problems
from knowledge.validation import load_spec, validate
from tests.conftest import CONTENT_DIR, PROJECT_ROOT

SPEC = KnowledgeSettings(_env_file=None).topics_spec  # type: ignore[call-arg]


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


def test_every_topic_of_the_spec_has_an_entry(content: Content) -> None:
    spec = load_spec(SPEC)
    assert {r.entry.id for r in content.topics} == set(spec.topics)
    assert all(len(r.entry.examples) >= 15 for r in content.topics)
    assert len(content.out_of_scope) >= 150


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


def test_telegram_html_checker() -> None:
    assert html_problems('<b>ok</b> <a href="https://x.vn">x</a> &amp; &lt;3') == []
    assert html_problems("<b>open") == ["unclosed tag(s): <b>"]
    assert "closes nothing open" in html_problems("</i>")[0]
    assert html_problems("<p>x</p>")[0] == "tag <p> is not supported by Telegram"
    assert html_problems("a < b")[0].startswith("unescaped '<'")


async def test_import_is_idempotent_and_export_round_trips(tmp_path: Path, content: Content) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await create_schema(engine)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            first = await KnowledgeRepository(session).sync_content(content)
        async with sessions() as session, session.begin():
            second = await KnowledgeRepository(session).sync_content(content)
        assert len(first.inserted) == 49 and first.examples_added > 1500
        assert not second.changed and len(second.unchanged) == 49

        async with sessions() as session:
            exported = await KnowledgeRepository(session).export_content()
        from knowledge.content_files import write_content

        write_content(exported, tmp_path / "export")
        reloaded = load_content(tmp_path / "export")
        assert reloaded.problems == []
        assert [r.entry for r in reloaded.topics] == [r.entry for r in content.topics]
        assert reloaded.out_of_scope == content.out_of_scope
        assert [d.key for d in reloaded.domains] == [d.key for d in content.domains]
        assert validate(reloaded, load_spec(SPEC)) == []

        # A changed answer is updated; a topic dropped from the content is retired, not deleted.
        reloaded.topics[0].entry.answer += "\nThêm một dòng."
        dropped = reloaded.topics.pop()
        async with sessions() as session, session.begin():
            third = await KnowledgeRepository(session).sync_content(reloaded)
        assert third.updated == [reloaded.topics[0].entry.id]
        assert third.retired == [dropped.entry.id]
        async with sessions() as session:
            snapshot = await KnowledgeRepository(session).snapshot()
        assert dropped.entry.id not in snapshot.topics and dropped.entry.id not in snapshot.examples
    finally:
        await engine.dispose()
