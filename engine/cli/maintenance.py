"""`compliance db upgrade`: create the store or bring it to this version's schema."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.cli.common import fail
from engine.cli.store import db_option
from engine.store import StoreError
from engine.store.database import display_url, make_engine, resolve_url, upgrade


@click.group()
def db() -> None:
    """Store maintenance (database schema)."""


@db.command("upgrade")
@db_option
def db_upgrade(db: str | None) -> None:
    """Create the store or bring it to this version's schema (Alembic migrations)."""
    url = resolve_url(db)
    try:
        engine = make_engine(url)
        try:
            before, after = upgrade(engine, url)
        finally:
            engine.dispose()
    except StoreError as exc:
        fail(f"存储 store: {exc}")
    except SQLAlchemyError as exc:
        fail(f"存储 store {display_url(url)}: {getattr(exc, 'orig', None) or exc}")
    if before == after:
        click.echo(f"存储 {display_url(url)} 已是最新结构(版本 {after})。")
    else:
        click.echo(f"存储 {display_url(url)} 已升级:{before or '空库'} → {after}。")
