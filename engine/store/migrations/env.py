"""Alembic environment: runs on the connection handed over by engine.store.database when there is one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from engine.store.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "engine.store.database.alembic_config always sets sqlalchemy.url"
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
