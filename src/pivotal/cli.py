"""The ``pivotal`` command (SPEC §10, §12): serve, db upgrade, workspaces, keys, users."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from pivotal.config import Settings
from pivotal.core import logs
from pivotal.core.errors import ApiError
from pivotal.core.secret_key import load_secret_key
from pivotal.db.engine import Database
from pivotal.db.migrate import upgrade

app = typer.Typer(
    help="Pivotal API v1 server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
workspaces_app = typer.Typer(help="Workspaces (organizations).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(keys_app, name="keys")
integrations_app = typer.Typer(help="Slack, Resend and HubSpot settings.", no_args_is_help=True)
app.add_typer(integrations_app, name="integrations")
users_app = typer.Typer(help="People who sign in to the dashboard.", no_args_is_help=True)
app.add_typer(users_app, name="users")

T = TypeVar("T")
err = Console(stderr=True)


def fail(message: str) -> None:
    """The SPEC's error contract: one line on stderr, exit status 1."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "failed"
    typer.echo(f"error: {first_line}", err=True)
    raise typer.Exit(1)


@contextmanager
def _database() -> Iterator[tuple[Database, Settings]]:
    settings = Settings.from_env()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        fail(f"cannot open the database {_safe_url(settings.database_url)}: {_reason(exc)}")
    db = Database(settings.database_url, pool_size=1)
    try:
        yield db, settings
    finally:
        db.dispose()


def _reason(exc: BaseException) -> str:
    """The driver's own words when there are some, without SQLAlchemy's decoration."""
    return str(getattr(exc, "orig", None) or exc)


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


def _run(work: Callable[[Connection, bytes], T]) -> T:
    """Run ``work(conn, secret_key)`` in one write transaction; errors exit 1 with one line."""
    with _database() as (db, settings):
        try:
            # Loaded before the transaction: on first use it is written in its own one.
            secret_key = load_secret_key(db.engine, settings.secret_key)
            with db.transaction(write=True) as conn:
                return work(conn, secret_key)
        except ApiError as exc:
            fail(exc.message)
        except SQLAlchemyError as exc:
            fail(f"database error: {_reason(exc)}")
    raise AssertionError("unreachable")


def _print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    no_worker: Annotated[
        bool,
        typer.Option("--no-worker", help="Do not run the webhook delivery worker in-process."),
    ] = False,
) -> None:
    """Migrate the database if needed and serve the API."""
    import uvicorn

    settings = Settings.from_env()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        fail(f"cannot open the database {_safe_url(settings.database_url)}: {_reason(exc)}")
    logs.configure(settings.log_level)  # batched: flushed by the app in-process, else at exit
    # Read by every process's Settings: each runs the workers (they share the queues)
    # unless told not to.
    os.environ["PIVOTAL_RUN_WORKER"] = "0" if no_worker else "1"
    uvicorn.run(
        "pivotal.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our middleware writes one JSON line per request instead
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker() -> None:
    """Run only the workers: webhook deliveries and integration jobs (several may share
    one PostgreSQL queue)."""
    import asyncio
    import signal

    from pivotal.core.context import Services
    from pivotal.workers import run_workers

    settings = Settings.from_env()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        fail(f"cannot open the database {_safe_url(settings.database_url)}: {_reason(exc)}")
    logging.basicConfig(level=settings.log_level, format="%(message)s", stream=sys.stderr)
    services = Services(settings, Database(settings.database_url))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_workers(services, stop)

    try:
        asyncio.run(run())
    finally:
        services.db.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = Settings.from_env()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        fail(f"migration failed on {_safe_url(settings.database_url)}: {_reason(exc)}")
    typer.echo("database is up to date")


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Option(help="Display name.")],
    slug: Annotated[
        str | None, typer.Option(help="Unique slug (derived from the name if absent).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a workspace."""
    from pivotal.workspaces import service

    workspace = _run(lambda conn, _key: service.create_workspace(conn, name, slug))
    if json:
        _print_json(workspace)
    else:
        typer.echo(f"created workspace {workspace['slug']} ({workspace['id']})")


@keys_app.command("create")
def keys_create(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    name: Annotated[str, typer.Option(help="Key name, shown as the actor 'API: <name>'.")],
    mode: Annotated[str, typer.Option(help="live or test.")] = "live",
    rate_limit: Annotated[
        int | None, typer.Option(help="Requests per minute (default 60 live, 30 test).")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="A scope such as read:customers; repeat for more.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON, including the key.")] = False,
) -> None:
    """Create an API key. Its cleartext is printed now and never again."""
    from pivotal.workspaces import service

    def work(conn: Connection, secret_key: bytes) -> service.CreatedKey:
        return service.create_key(conn, secret_key, workspace, name, mode, rate_limit, scope)

    created = _run(work)
    if json:
        _print_json({**created.record, "key": created.cleartext})
        return
    typer.echo(f"{created.record['mode']} key {created.record['id']} ({created.record['prefix']})")
    typer.echo(f"key: {created.cleartext}")
    typer.echo("Store it now: it is not shown again.")


@keys_app.command("list")
def keys_list(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a workspace's keys (never their secrets)."""
    from pivotal.workspaces import service

    rows = _run(lambda conn, _key: service.list_keys(conn, workspace))
    if json:
        _print_json(rows)
        return
    table = Table("id", "name", "prefix", "mode", "rate limit", "created", "last used", "revoked")
    for row in rows:
        table.add_row(
            row["id"],
            row["name"],
            row["prefix"],
            row["mode"],
            str(row["rate_limit"]),
            row["created_at"],
            row["last_used_at"] or "-",
            row["revoked_at"] or "-",
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id_or_prefix: Annotated[str, typer.Argument(help="The key's id or visible prefix.")],
) -> None:
    """Revoke a key; every server process refuses it from the next request on."""
    from pivotal.workspaces import service

    row = _run(lambda conn, _key: service.revoke_key(conn, key_id_or_prefix))
    typer.echo(f"revoked {row['id']} ({row['prefix']}) at {row['revoked_at']}")


@users_app.command("create")
def users_create(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    email: Annotated[str, typer.Option(help="Sign-in email (unique on this server).")],
    role: Annotated[str, typer.Option(help="owner, admin or member.")] = "member",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a dashboard user. The password is prompted for (or read from stdin)."""
    from pivotal.dashboard import users

    if password_stdin:
        # One line; the trailing newline of `echo ... |` is not part of the password.
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = _run(lambda conn, _key: users.create_user(conn, workspace, email, role, password))
    if json:
        _print_json(created)
    else:
        typer.echo(f"created {created['role']} {created['email']} ({created['id']}) in {workspace}")


@integrations_app.command("set")
def integrations_set(
    service: Annotated[str, typer.Argument(help="slack, resend or hubspot.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    token: Annotated[str | None, typer.Option(help="Slack bot token or HubSpot token.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Resend API key.")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Resend sender address.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Store a service's credentials, sealed with the server secret."""
    from pivotal.integrations import service as integrations
    from pivotal.workspaces import service as workspaces

    given = {"token": token, "api_key": api_key, "from": sender}
    config = {k: v for k, v in given.items() if v is not None}

    def work(conn: Connection, secret_key: bytes) -> dict[str, Any]:
        found = workspaces.find_workspace(conn, workspace)
        return integrations.set_config(conn, secret_key, found.id, service, config)

    shown = _run(work)
    if json:
        _print_json(shown)
    else:
        details = ", ".join(f"{k}={v}" for k, v in shown.items() if k != "service")
        typer.echo(f"{service} configured for {workspace}: {details}")


@integrations_app.command("list")
def integrations_list(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each service's settings; secrets only by their last 4 characters."""
    from pivotal.integrations import service as integrations
    from pivotal.workspaces import service as workspaces

    def work(conn: Connection, secret_key: bytes) -> list[dict[str, Any]]:
        found = workspaces.find_workspace(conn, workspace)
        return integrations.list_configs(conn, secret_key, found.id)

    rows = _run(work)
    if json:
        _print_json(rows)
        return
    for row in rows:
        details = ", ".join(f"{k}={v}" for k, v in row.items() if k != "service")
        typer.echo(f"{row['service']:<8} {details}")


@app.command("quickstart", hidden=True)
def quickstart() -> None:
    """Used by `make run`: create the demo workspace and its two keys the first time."""
    from pivotal.workspaces import service

    def work(conn: Connection, secret_key: bytes) -> list[service.CreatedKey] | None:
        try:
            service.find_workspace(conn, "demo")
            return None
        except ApiError:
            pass
        service.create_workspace(conn, "Demo", "demo")
        return [
            service.create_key(conn, secret_key, "demo", "Quickstart live", "live"),
            service.create_key(conn, secret_key, "demo", "Quickstart test", "test"),
        ]

    created = _run(work)
    if created is None:
        typer.echo(
            "Workspace 'demo' exists already; its keys were printed when it was made.\n"
            "New key: .venv/bin/pivotal keys create --workspace demo --name me"
        )
        return
    typer.echo("Created workspace 'demo'. Its keys are shown this once:")
    for key in created:
        typer.echo(f"  {key.record['mode']:<4}  {key.cleartext}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
