"""Where the store lives and how it is opened.

The URL comes from ``--db``, else the environment variable ``COMPLIANCE_DB``, else the SQLite file
``compliance.db`` in the user's data folder (engine/store/location.py, which names it without
importing SQLAlchemy). A plain path means an SQLite file.

SQLite runs in WAL mode with a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``:
a deferred transaction that reads first and writes later can fail at once with "database is locked"
when another process committed in between (the busy handler cannot help there), while an immediate
one waits its turn. PostgreSQL needs nothing special beyond ordinary transactions.

The schema is created and upgraded only by the Alembic migrations, never by ``create_all``, so a
store made by one version opens in the next after ``compliance db upgrade``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.pool import ConnectionPoolEntry

from engine import resources
from engine.store.errors import StoreError  # noqa: F401 (its home before; callers import it from here)
from engine.store.location import DEFAULT_DB_FILE, ENV_VAR, chosen_db, db_help, default_db_path

__all__ = ["DEFAULT_DB_FILE", "ENV_VAR", "StoreError", "db_help", "default_db_path", "resolve_url"]

BUSY_TIMEOUT_MS = 60_000
MIGRATIONS = resources.migrations_dir()
_MIGRATION_LOCK = 7_316_042_024  # PostgreSQL advisory lock key: one migrator at a time


def resolve_url(value: str | None = None) -> str:
    """The store URL: ``--db``, else $COMPLIANCE_DB, else compliance.db in the user's data folder;
    a plain path is an SQLite file."""
    value = chosen_db(value)
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def is_default(url: str) -> bool:
    """Whether the URL is the default SQLite file (whose folder is created on first use)."""
    return url == "sqlite:///" + str(default_db_path().expanduser().resolve())


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            parent = Path(u.database).parent
            if not parent.is_dir() and is_default(url):
                parent.mkdir(parents=True, exist_ok=True)  # the user's data folder, on first use
            if not parent.is_dir():
                raise StoreError(f"folder of the store does not exist: {parent}")
        engine = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("psycopg2", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    try:
        return create_engine(u, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"unsupported database URL {display_url(url)}: {exc}") from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        # Checkpoint the WAL every ~40 MB instead of every 4 MB: a chunk writes a few MB, and a
        # checkpoint (with its fsync) after nearly every chunk was most of the time to commit it.
        cur.execute("PRAGMA wal_autocheckpoint = 10000")
        cur.execute(
            "PRAGMA synchronous = NORMAL"
        )  # safe with WAL: a crash loses no committed chunk's integrity
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Alembic configured in code: the migrations ship inside the package, no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
    with engine.connect() as conn:
        conn.execution_options(immediate=True)
        with conn.begin():
            yield conn


def upgrade(engine: Engine, url: str) -> tuple[str | None, str]:
    """Apply pending migrations in one transaction, one process at a time; (revision before, after)."""
    with write_connection(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        before = current_revision(conn)
        if before is None and "runs" in inspect(conn).get_table_names():
            raise StoreError(f"{display_url(url)} holds tables but no schema version; not a compliance store")
        if before != head_revision():
            command.upgrade(alembic_config(url, conn), "head")
        return before, current_revision(conn) or ""


def check_schema(engine: Engine, url: str, *, create: bool) -> None:
    """Make sure the store is at the code's schema version.

    An empty database is created by running the migrations when `create` is true; a store at an older
    version must be upgraded deliberately (`compliance db upgrade`), a newer one needs newer code.
    """
    head = head_revision()
    try:
        with engine.connect() as conn:
            rev = current_revision(conn)
            conn.rollback()
    except DBAPIError as exc:
        raise StoreError(f"cannot open the store {display_url(url)}: {exc.orig}") from exc
    if rev == head:
        return
    if rev is None:
        if not create:
            raise StoreError(f"no store at {display_url(url)} yet (run `compliance evaluate` first)")
        try:
            upgrade(engine, url)
        except DBAPIError as exc:
            raise StoreError(f"cannot create the store {display_url(url)}: {exc.orig}") from exc
        return
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}
    if rev in known:
        raise StoreError(
            f"the store {display_url(url)} is at schema {rev}, this version needs {head}: "
            "run `compliance db upgrade`"
        )
    raise StoreError(
        f"the store {display_url(url)} has schema {rev}, unknown to this version "
        f"(made by a newer version of compliance?)"
    )
