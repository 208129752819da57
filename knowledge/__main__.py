"""``python -m knowledge validate | import | export | training-data | migrate | revision``.

``import`` also loads ``curated.yaml`` from the content folder when present (upsert by label
and key, never deleting curated examples); ``export`` writes every curated example to
``OUT_DIR/curated.yaml`` for review and commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from knowledge.content_files import load_content, write_content
from knowledge.repository import KnowledgeRepository
from knowledge.settings import KnowledgeSettings
from knowledge.validation import load_spec, validate
from storage.engine import create_engine, create_schema, session_factory
from storage.migrate import (
    MigrationError,
    database_revision,
    legacy_revision,
    new_revision,
    upgrade_database,
)
from storage.settings import StorageSettings


def _validate(settings: KnowledgeSettings, content_dir: Path, spec_path: Path) -> int:
    if not spec_path.exists():
        print(f"topic spec not found: {spec_path} (set TOPICS_SPEC)", file=sys.stderr)
        return 2
    content = load_content(content_dir)
    problems = validate(content, load_spec(spec_path))
    for problem in problems:
        print(problem)
    examples = sum(len(r.entry.examples) for r in content.topics)
    if problems:
        print(f"{len(problems)} problem(s) in {content_dir}", file=sys.stderr)
        return 1
    print(
        f"OK: {len(content.topics)} topics, {examples} examples, {len(content.out_of_scope)} out-of-scope questions, "
        f"{len(content.curated)} curated examples"
    )
    return 0


async def _import(settings: KnowledgeSettings, content_dir: Path, spec_path: Path) -> int:
    if _validate(settings, content_dir, spec_path) != 0:
        print("not imported: fix the problems above first", file=sys.stderr)
        return 1
    engine = create_engine(StorageSettings().database_url)
    try:
        await create_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            report = await KnowledgeRepository(session).sync_content(load_content(content_dir))
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(
        f"imported: {len(report.inserted)} new, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.retired)} retired topics; "
        f"examples +{report.examples_added} -{report.examples_removed}; "
        f"curated +{report.curated_added} ~{report.curated_updated}"
    )
    for skipped in report.curated_skipped:
        print(f"curated example not loaded: {skipped}", file=sys.stderr)
    return 0


async def _export(settings: KnowledgeSettings, out_dir: Path) -> int:
    engine = create_engine(StorageSettings().database_url)
    try:
        async with session_factory(engine)() as session:
            content = await KnowledgeRepository(session).export_content()
    finally:
        await engine.dispose()
    for path in write_content(content, out_dir):
        print(f"wrote {path}")
    return 0


async def _training_data(settings: KnowledgeSettings, out: Path) -> int:
    engine = create_engine(StorageSettings().database_url)
    try:
        async with session_factory(engine)() as session:
            examples = await KnowledgeRepository(session).training_examples()
    finally:
        await engine.dispose()
    if not examples:
        print("the database has no examples; run 'python -m knowledge import' first", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"intents": examples}, ensure_ascii=False, indent=1, sort_keys=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    print(f"{sum(map(len, examples.values()))} examples in {len(examples)} intents -> {out}")
    return 0


async def _migrate(settings: KnowledgeSettings) -> int:
    engine = create_engine(StorageSettings().database_url)
    try:
        before = await database_revision(engine)
        legacy = None
        if before is None:
            async with engine.connect() as connection:
                legacy = await connection.run_sync(legacy_revision)
        await upgrade_database(engine)
        after = await database_revision(engine)
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"{where}: already at revision {after} (head)")
    elif legacy is not None:
        print(f"{where}: tables made before migrations existed, stamped at {legacy}, migrated to {after} (head)")
    else:
        print(f"{where}: migrated from {before or 'nothing'} to {after} (head)")
    return 0


async def _revision(message: str) -> int:
    path = await new_revision(message)
    print(f"wrote {path}; review it (autogenerate misses renames and data changes) before committing")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    parser.add_argument("--content", type=Path, help="content folder (default: knowledge/content)")
    parser.add_argument("--spec", type=Path, help="topics.yaml (default: ../shared/spec/topics.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check the content files against the spec")
    commands.add_parser("import", help="validate, then upsert the content into the database")
    export = commands.add_parser("export", help="write the database back as content files")
    export.add_argument("out_dir", type=Path)
    training = commands.add_parser("training-data", help="write intent examples as JSON for NLU training")
    training.add_argument("out", type=Path)
    commands.add_parser("migrate", help="bring the database (DATABASE_URL) to the newest schema")
    revision = commands.add_parser("revision", help="autogenerate the next migration from the models")
    revision.add_argument("message")
    args = parser.parse_args(argv)
    settings = KnowledgeSettings()
    content_dir = args.content or settings.content_dir
    spec_path = args.spec or settings.topics_spec
    if args.command == "validate":
        return _validate(settings, content_dir, spec_path)
    if args.command == "import":
        return asyncio.run(_import(settings, content_dir, spec_path))
    if args.command == "export":
        return asyncio.run(_export(settings, args.out_dir))
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "revision":
        return asyncio.run(_revision(args.message))
    return asyncio.run(_training_data(settings, args.out))


if __name__ == "__main__":
    sys.exit(main())
