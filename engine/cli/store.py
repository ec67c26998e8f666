"""What the store commands share: the --db option, opening the store, tables; and evaluate's link to it.

The commands live by group: engine/cli/runs.py (`runs`, `runs show`, `history`, `diff`),
engine/cli/export.py (`export`), engine/cli/maintenance.py (`db upgrade`). Wiring only: the queries
live in engine.store; these modules print them for people (Chinese labels) or as JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.engine import make_url

from engine.cli.common import fail

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
from engine.records.catalog import Catalog
from engine.store import Store, StoreError
from engine.store.database import display_url, resolve_url
from engine.store.location import ENV_VAR, db_help

CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "变化"}
FIELD_ZH = {"status": "结论", "value": "实际值", "threshold": "标准", "check_version": "检查项版本"}
CATEGORY_ZH = {
    "rejected": "退回记录",
    "file_problem": "无法使用的文件",
    "warning": "提示",
    "notice": "未评价记录",
}


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
    if (
        u.get_backend_name() == "sqlite"
        and u.database not in (None, "", ":memory:")
        and not Path(u.database).exists()
    ):
        return u.database
    return None


def store_location(db: str | None) -> str:
    """Where the store is, for people: the file of an SQLite store, else its URL without password."""
    url = resolve_url(db)
    u = make_url(url)
    return str(u.database) if u.get_backend_name() == "sqlite" and u.database else display_url(url)


def when(v: dt.datetime | None) -> str:
    return v.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v else "—"


def console() -> Console:
    from rich.console import Console

    # Piped output (a file, a test) gets room for CJK columns instead of rich's 80-column default.
    # markup=False: record ids, names and check titles are data; '[/bold]x' or '[link=…]' prints as written.
    return Console(markup=False) if sys.stdout.isatty() else Console(width=200, markup=False)


def table(title: str | None, columns: Iterable[str]) -> Table:
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    return t


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
