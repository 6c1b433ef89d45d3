"""Alembic environment: runs migrations on the connection handed over by db/migrate.py."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from pivotal.db.migrate import engine_for
from pivotal.db.tables import metadata

# Any number to identify our lock; processes starting together migrate one at a time.
_PG_MIGRATION_LOCK = 7_305_113


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = engine_for(url)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if is_pg:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


run_migrations_online()
