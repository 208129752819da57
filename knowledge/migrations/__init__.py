"""Alembic migrations of the knowledge database (SQLite and PostgreSQL, the same revisions).

Run them with ``python -m knowledge migrate`` or ``knowledge.migrate.upgrade_database``;
there is no alembic.ini (see ``knowledge.migrate.alembic_config``).
"""
