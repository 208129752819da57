"""The database: the async engine, the declarative base shared by every package's models, and
the Alembic migrations for SQLite and PostgreSQL.

Imports no other package of the project at module level; ``storage.migrate`` loads every
package's models only when it needs the whole schema.
"""
