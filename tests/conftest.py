"""Fixtures: every test runs against a fresh real database, SQLite always and PostgreSQL
whenever PIVOTAL_TEST_POSTGRES_URL is set (CI sets it and fails if it is unreachable)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from pivotal.app import create_app
from pivotal.config import Settings, normalize_database_url
from pivotal.db.engine import Database
from pivotal.db.migrate import upgrade
from pivotal.db.tables import metadata
from pivotal.workspaces import service as workspaces
from support import auth

POSTGRES_URL = os.environ.get("PIVOTAL_TEST_POSTGRES_URL")
SECRET = "test-secret-key"
ENGINES = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own database beside the configured one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    assert POSTGRES_URL is not None
    url = _worker_database(normalize_database_url(POSTGRES_URL))
    _reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each engine."""
    if request.param == "sqlite":
        path = tmp_path / "pivotal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.services.db.dispose()


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.services.db
    return database


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client without credentials."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


MakeKey = Callable[..., str]


@pytest.fixture
def make_key(app: FastAPI) -> MakeKey:
    """Create a key: make_key(workspace="acme", mode="live", scopes=None, name=None, ...)."""
    services = app.state.services

    def _make(
        workspace: str = "acme",
        mode: str = "live",
        scopes: list[str] | None = None,
        name: str | None = None,
        rate_limit: int | None = None,
    ) -> str:
        with services.db.transaction(write=True) as conn:
            exists = conn.execute(
                text("SELECT 1 FROM workspaces WHERE slug = :s"), {"s": workspace}
            ).first()
            if exists is None:
                workspaces.create_workspace(conn, workspace.title(), workspace)
            created = workspaces.create_key(
                conn,
                services.secret_key,
                workspace,
                name or f"{mode} key",
                mode=mode,
                rate_limit=rate_limit,
                scopes=scopes,
            )
        return created.cleartext

    return _make


@dataclass
class Keys:
    live: str
    test: str


@pytest.fixture
def keys(request: pytest.FixtureRequest, make_key: MakeKey) -> Keys:
    """A live key "CRM sync" and a test key "CI", with the default rate limits unless the
    test is marked ``many_requests`` (it sends more than a minute's allowance)."""
    rate_limit = 100_000 if request.node.get_closest_marker("many_requests") else None
    return Keys(
        live=make_key(mode="live", name="CRM sync", rate_limit=rate_limit),
        test=make_key(mode="test", name="CI", rate_limit=rate_limit),
    )


@pytest.fixture
def api(app: FastAPI, keys: Keys) -> Iterator[TestClient]:
    """An HTTP client authenticated with the workspace's live key (name "CRM sync")."""
    with TestClient(app, headers=auth(keys.live), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def other_api(app: FastAPI, make_key: MakeKey) -> Iterator[TestClient]:
    """A client for a second workspace, to prove isolation."""
    key = make_key(workspace="globex", name="Globex key")
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as test_client:
        yield test_client


def pytest_configure(config: pytest.Config) -> None:
    """Under CI, PostgreSQL is required: its absence fails the run instead of skipping."""
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError("CI is set but PIVOTAL_TEST_POSTGRES_URL is not")
