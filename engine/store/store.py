"""The Store: an opened database at the code's schema version."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlmodel import Session

from engine.store.database import (
    StoreError,
    check_schema,
    display_url,
    make_engine,
    resolve_url,
    write_connection,
)


class Store:
    """An opened store. ``create`` runs the migrations on an empty database (evaluate does; reads do not)."""

    def __init__(self, url: str | None = None, *, create: bool = True):
        self.url = resolve_url(url)
        u = make_url(self.url)
        if (
            not create
            and u.get_backend_name() == "sqlite"
            and u.database not in (None, "", ":memory:")
            and not Path(u.database).exists()
        ):
            # Opening would create an empty file; a read must not leave one behind.
            raise StoreError(f"no store at {u.database} yet (run `compliance evaluate` first)")
        self.engine = make_engine(self.url)
        try:
            check_schema(self.engine, self.url, create=create)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def display(self) -> str:
        return display_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A session for reading (and light writes that need no ordering against other processes)."""
        return Session(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed when the block ends without error."""
        with write_connection(self.engine) as conn:
            yield conn

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """An ORM session inside a write transaction, committed when the block ends without error."""
        with (
            write_connection(self.engine) as conn,
            Session(bind=conn, join_transaction_mode="conditional_savepoint") as s,
        ):
            yield s
            s.flush()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
