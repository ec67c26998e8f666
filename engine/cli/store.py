"""What the store commands share: the --db option, opening the store, tables; and evaluate's link to it.

The commands live by group: engine/cli/runs.py (`runs`, `runs show`, `history`, `diff`),
engine/cli/export.py (`export`), engine/cli/maintenance.py (`db upgrade`). Wiring only: the queries
live in engine.store; these modules print them for people (Chinese labels) or as JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from engine.cli.common import fail
from engine.pipeline.stream import ChunkResult
from engine.policy.policy import Policy
from engine.records.catalog import Catalog
from engine.store import Store, StoreError
from engine.store.database import display_url, resolve_url
from engine.store.location import ENV_VAR, db_help
from engine.store.runs import ResumePlan, RunWriter, StoreTarget, begin_run, resume_plan, resume_run

CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "变化"}
FIELD_ZH = {"status": "结论", "value": "实际值", "threshold": "标准", "check_version": "检查项版本"}
CATEGORY_ZH = {"rejected": "退回记录", "file_problem": "无法使用的文件", "warning": "提示", "notice": "未评价记录"}


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db", envvar=ENV_VAR, default=None, metavar="URL", help=db_help())(f)


def open_store(db: str | None, *, create: bool = False) -> Store:
    try:
        return Store(db, create=create)
    except StoreError as exc:
        fail(f"存储 store: {exc}")


def store_missing(db: str | None) -> str | None:
    """The SQLite file the store would be, when it does not exist yet (None: it exists, or is not SQLite)."""
    url = resolve_url(db)
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") and not Path(u.database).exists():
        return u.database
    return None


def store_location(db: str | None) -> str:
    """Where the store is, for people: the file of an SQLite store, else its URL without password."""
    url = resolve_url(db)
    u = make_url(url)
    return str(u.database) if u.get_backend_name() == "sqlite" and u.database else display_url(url)


def when(v: dt.datetime | None) -> str:
    return v.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v else "—"


def console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    # Piped output (a file, a test) gets room for CJK columns instead of rich's 80-column default.
    # markup=False: record ids, names and check titles are data; '[/bold]x' or '[link=…]' prints as written.
    return Console(markup=False) if sys.stdout.isatty() else Console(width=200, markup=False)


def table(title: str | None, columns: Iterable[str]):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    return t



# --- evaluate's link to the store -----------------------------------------------------------------

class RunRecorder:
    """Begins (or resumes) a run, saves each chunk, finishes; a store failure ends the command clearly."""

    def __init__(self, store: Store, writer: RunWriter, resumed: bool = False):
        self.store, self.writer = store, writer
        if resumed:
            click.echo(f"续评 resuming run {writer.run_id}: {len(writer.committed)} chunk(s) already stored",
                       err=True)

    @classmethod
    def begin(cls, db: str | None, policy: Policy, *, paths: list[str], reviewer: str | None,
              as_of: dt.date | None, kind: str | None, chunk_size: int, engine_name: str,
              rules_dirs: tuple[str, ...]) -> RunRecorder:
        store = open_store(db, create=True)
        try:
            writer = begin_run(store, policy, inputs=paths, reviewer=reviewer, as_of=as_of, kind=kind,
                               chunk_size=chunk_size, engine_name=engine_name, rules_dirs=rules_dirs)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")
        return cls(store, writer)

    @staticmethod
    def plan(db: str | None, run_id: int) -> tuple[Store, ResumePlan]:
        store = open_store(db)
        try:
            return store, resume_plan(store, run_id)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")

    @classmethod
    def resume(cls, store: Store, plan: ResumePlan, policy: Policy) -> RunRecorder:
        try:
            return cls(store, resume_run(store, plan, policy), resumed=True)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")

    @property
    def skip(self) -> frozenset[int]:
        return self.writer.committed

    def hand_over(self) -> StoreTarget:
        """Let worker processes store the chunks they evaluate (see engine/pipeline/workers.py)."""
        return self.writer.hand_over()

    def save(self, chunk: ChunkResult) -> None:
        if chunk.stored:  # by the worker that evaluated it
            self.writer.committed = self.writer.committed | {chunk.index}
            return
        try:
            self.writer.save_chunk(chunk)
        except (StoreError, SQLAlchemyError) as exc:
            self._failed(exc)

    def guard(self, chunks: Iterator[ChunkResult]) -> Iterator[ChunkResult]:
        """The chunks, with a store failure in a worker reported as one in this process would be."""
        try:
            yield from chunks
        except StoreError as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> NoReturn:
        fail(f"存储 store {self.store.display}: {_reason(exc)}; chunks committed before this one are kept: "
             f"finish with `compliance evaluate --resume {self.writer.run_id}`")

    def finish(self) -> None:
        try:
            s = self.writer.finish()
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {self.store.display}: {_reason(exc)}")
        finally:
            self.store.close()
        click.echo(f"已保存 stored: 评价批次 run {s.id} in {self.store.display} "
                   f"({s.n_records} records, {s.n_findings} findings)", err=True)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc)


def field_label(kind: str, field: str) -> str:
    """'总投资(total_investment)' from the record vocabulary; the bare name if it is not known."""
    try:
        spec = catalog().kind(kind).fields.get(field)
    except Exception:  # an unreadable vocabulary must not hide the history itself
        spec = None
    return f"{spec.label}({field})" if spec else field


@functools.cache
def catalog() -> Catalog:
    from engine.policy.loader import BASE_CATALOG
    from engine.records.catalog import catalog_files, load_catalog

    return load_catalog(catalog_files(BASE_CATALOG))
