"""Alembic migrations of the knowledge database (SQLite and PostgreSQL, the same revisions).

Run them with ``python -m knowledge migrate`` or ``storage.migrate.upgrade_database``;
there is no alembic.ini (see ``storage.migrate.alembic_config``).
"""
