"""Group tags in their own table; a folded search column on groups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

``groups.province`` / ``commune`` / ``labels`` become rows of ``group_tags`` (kind ``tinh`` /
``xa`` / ``nhan``, ``key`` folded for matching, ``display`` as typed), so audience counting
and search run in SQL instead of loading every group. Labels that fold to the same key are
kept once (the first one); values that fold to nothing could never be matched and are left
out. ``groups.search_text`` is filled from the title and the tags.

The data moves use Core over plain rows and a frozen copy of the folding rules: the ORM models
may change later, this revision must not. Only the list of the 34 provinces is shared.

SQLite: the columns are added and dropped with SQLite's own ``ALTER TABLE … ADD/DROP COLUMN``,
not by batch mode. Batch mode rebuilds ``groups`` (create a copy, drop, rename), and dropping a
table that ``deliveries`` refers to fails while foreign keys are enforced, which cannot be
switched off inside the migration's transaction. One trace remains: after a downgrade,
``groups.labels`` on SQLite has a ``DEFAULT '[]'`` that 0002 did not have (removing a default
needs the rebuild).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from broadcasts.tags import PROVINCES

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000  # groups per read and per executemany
KEY_LENGTH = 128

# The 34 provinces are fixed by the 2025 reform; one list for the app and this revision (the
# names only feed the search column; the key is what is stored).
PROVINCE_NAMES: dict[str, str] = dict(PROVINCES)

old_groups = sa.table(
    "groups",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("province", sa.String),
    sa.column("commune", sa.String),
    sa.column("labels", sa.JSON),
    sa.column("search_text", sa.Text),
)
group_tags = sa.table(
    "group_tags",
    sa.column("id", sa.Integer),
    sa.column("group_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("display", sa.String),
)


def fold(text: str) -> str:
    """broadcasts.tags.fold as of this revision: lower case, no accents, words joined by one space."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"\w+", plain))


def search_text(title: str, province: str | None, commune: str | None, labels: Sequence[str]) -> str:
    """The repository's ``search_text`` as of this revision: folded parts, one per line."""
    parts = [title, commune or "", PROVINCE_NAMES.get(province or "", ""), *labels]
    return "\n".join(folded for folded in map(fold, parts) if folded)


def tags_of(province: str | None, commune: str | None, labels: Any) -> list[dict[str, str]]:
    """The tag rows of one old group row (labels de-duplicated by folded key, first one kept)."""
    rows: list[dict[str, str]] = []
    if province:
        rows.append({"kind": "tinh", "key": province[:KEY_LENGTH], "display": PROVINCE_NAMES.get(province, province)})
    if commune and fold(commune):
        rows.append({"kind": "xa", "key": fold(commune)[:KEY_LENGTH], "display": commune[:KEY_LENGTH]})
    seen: set[str] = set()
    for label in labels if isinstance(labels, list) else []:
        key = fold(str(label))[:KEY_LENGTH]
        if key and key not in seen:
            seen.add(key)
            rows.append({"kind": "nhan", "key": key, "display": str(label)[:KEY_LENGTH]})
    return rows


def batches(connection: sa.Connection, query: sa.Select[Any], id_column: sa.ColumnClause[Any]) -> Iterator[list[Any]]:
    """Rows of ``query`` in id order, ``BATCH`` at a time (keyset paging: memory stays flat)."""
    last = None
    while True:
        page = query if last is None else query.where(id_column > last)
        rows = list(connection.execute(page.order_by(id_column).limit(BATCH)))
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "group_tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("display", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "kind", "key", name="uq_group_tags_group_kind_key"),
    )
    op.create_index("ix_group_tags_kind_key", "group_tags", ["kind", "key", "group_id"], unique=False)
    one_place = sa.text("kind IN ('tinh', 'xa')")
    op.create_index(
        "uq_group_tags_one_place",
        "group_tags",
        ["group_id", "kind"],
        unique=True,
        sqlite_where=one_place,
        postgresql_where=one_place,
    )
    op.add_column("groups", sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False))

    connection = op.get_bind()
    columns = old_groups.c
    query = sa.select(columns.id, columns.title, columns.province, columns.commune, columns.labels)
    fill = (
        sa.update(old_groups)
        .where(old_groups.c.id == sa.bindparam("group_id_"))
        .values(search_text=sa.bindparam("search_text_"))
    )
    for rows in batches(connection, query, old_groups.c.id):
        tag_rows, texts = [], []
        for group_id, title, province, commune, labels in rows:
            tags = tags_of(province, commune, labels)
            tag_rows += [{"group_id": group_id, **tag} for tag in tags]
            shown_labels = [tag["display"] for tag in tags if tag["kind"] == "nhan"]
            texts.append({"group_id_": group_id, "search_text_": search_text(title, province, commune, shown_labels)})
        if tag_rows:
            connection.execute(sa.insert(group_tags), tag_rows)
        connection.execute(fill, texts)

    op.drop_index("ix_groups_province", table_name="groups")
    for name in ("province", "commune", "labels"):
        op.drop_column("groups", name)


def downgrade() -> None:
    connection = op.get_bind()
    op.add_column("groups", sa.Column("province", sa.String(length=64), nullable=True))
    op.add_column("groups", sa.Column("commune", sa.String(length=128), nullable=True))
    op.add_column("groups", sa.Column("labels", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    if connection.dialect.name != "sqlite":
        op.alter_column("groups", "labels", server_default=None)
    op.create_index("ix_groups_province", "groups", ["province"], unique=False)

    query = sa.select(group_tags.c.group_id, group_tags.c.kind, group_tags.c.key, group_tags.c.display)
    back = (
        sa.update(old_groups)
        .where(old_groups.c.id == sa.bindparam("group_id_"))
        .values(province=sa.bindparam("province_"), commune=sa.bindparam("commune_"), labels=sa.bindparam("labels_"))
    )
    tagged = sa.select(group_tags.c.group_id).distinct()
    for rows in batches(connection, tagged, group_tags.c.group_id):
        ids = [row[0] for row in rows]
        values = {gid: {"group_id_": gid, "province_": None, "commune_": None, "labels_": []} for gid in ids}
        for group_id, kind, key, display in connection.execute(
            query.where(group_tags.c.group_id.in_(ids)).order_by(group_tags.c.group_id, group_tags.c.id)
        ):
            row = values[group_id]
            if kind == "tinh":
                row["province_"] = key[:64]
            elif kind == "xa":
                row["commune_"] = display
            else:
                row["labels_"].append(display)
        connection.execute(back, list(values.values()))

    op.drop_table("group_tags")
    op.drop_column("groups", "search_text")
