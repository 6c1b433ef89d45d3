"""Schema migrations (Alembic), driven from code so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from pivotal.db.engine import null_pool_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is an INI file underneath: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def engine_for(url: str) -> Engine:
    return null_pool_engine(url)


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is there)."""
    command.upgrade(alembic_config(url), "head")
