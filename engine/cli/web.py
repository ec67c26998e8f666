"""`compliance serve`, `compliance worker` and `compliance users`: the web workbench (engine/web)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import click

from engine.cli.common import fail, rules_option
from engine.cli.evaluate import db_option


def _open(db: str | None) -> Any:
    from engine.store import Store, StoreError

    try:
        return Store(db, create=True)
    except StoreError as exc:
        fail(f"存储 store: {exc}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@db_option
@rules_option
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for uploaded files, rule packs loaded by authors and the session key "
    "[default: workbench/ in the user's data folder, beside the default store].",
)
@click.option("--max-upload-mb", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--session-minutes",
    type=click.IntRange(1),
    default=480,
    show_default=True,
    help="A session expires after this long without a request.",
)
@click.option(
    "--queue",
    type=click.Choice(["auto", "thread", "procrastinate"]),
    default="auto",
    show_default=True,
    help="Background evaluations: auto = procrastinate workers with PostgreSQL, threads with SQLite.",
)
@click.option("--https-only", is_flag=True, help="Secure cookies (when served behind a TLS proxy).")
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Server processes (uvicorn workers) sharing the port: pages of a large run use every core.",
)
def serve(
    host: str,
    port: int,
    db: str | None,
    rules_dirs: tuple[str, ...],
    data_dir: str | None,
    max_upload_mb: int,
    session_minutes: int,
    queue: str,
    https_only: bool,
    workers: int,
) -> None:
    """审查工作台: serve the web workbench (default http://127.0.0.1:8000)."""
    import uvicorn

    from engine.web.app import create_app
    from engine.web.settings import WebSettings

    settings = WebSettings(
        db=db,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        session_seconds=session_minutes * 60,
        rules_dirs=rules_dirs,
        queue=queue,
        https_only=https_only,
    )
    if data_dir:
        settings.data_dir = Path(data_dir)
    store = _open(db)
    from engine.store.accounts import count_users

    if not count_users(store):
        click.echo(
            "提示 notice: 还没有任何账号;先创建管理员:compliance users add 姓名 --role admin", err=True
        )
    app = create_app(settings, store)
    try:
        app.state.web.policy()  # compiled now, not by the first visitor
    except Exception as exc:  # noqa: BLE001 - shown, and pages that need the rules say so
        fail(f"规则包 rule packs: {exc}")
    mode = app.state.web.runner.name
    click.echo(f"审查工作台 http://{host}:{port}/ · 存储 {store.display} · 后台评价 {mode}", err=True)
    if workers > 1:
        import dataclasses
        import json
        import os

        from engine.web.app import SETTINGS_ENV

        settings.secret_key = settings.secret()  # one key for every process
        raw = dataclasses.asdict(settings)
        raw.update(db=store.url, data_dir=str(settings.data_dir), rules_dirs=list(settings.rules_dirs))
        os.environ[SETTINGS_ENV] = json.dumps(raw)
        store.close()
        click.echo(f"{workers} 个服务进程 server processes", err=True)
        uvicorn.run(
            "engine.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            proxy_headers=False,
        )
        return
    from engine.web.queries import warm_up

    warm_up(store)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@click.command("worker")
@db_option
@click.option("--concurrency", type=click.IntRange(1), default=1, show_default=True)
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then stop (for tests and cron).")
def worker(db: str | None, concurrency: int, once: bool) -> None:
    """后台评价进程: run the workbench's evaluations from the PostgreSQL queue (procrastinate)."""
    from engine.web.queue import run_worker

    store = _open(db)
    if store.dialect != "postgresql":
        fail(
            "compliance worker needs a PostgreSQL store (--db postgresql+psycopg://…); "
            "with SQLite, `compliance serve` evaluates in its own process"
        )
    click.echo(f"后台评价进程 worker · 存储 {store.display}", err=True)
    run_worker(store, concurrency=concurrency, once=once)


@click.group("users")
def users() -> None:
    """工作台账号: add users, change roles, reset passwords."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "officer", "author", "admin"]), required=True)
@click.option(
    "--password",
    envvar="COMPLIANCE_NEW_PASSWORD",
    default=None,
    help="Default: asked twice (or $COMPLIANCE_NEW_PASSWORD).",
)
@db_option
def users_add(name: str, role: str, password: str | None, db: str | None) -> None:
    """Create an account NAME with a role (reviewer < officer < author < admin)."""
    from engine.store import StoreError
    from engine.store.accounts import create_user, record_event

    if password is None:
        password = getpass.getpass("密码 password: ")
        if getpass.getpass("再次输入 again: ") != password:
            fail("两次输入的密码不一致 the passwords differ")
    store = _open(db)
    try:
        account = create_user(store, name, role, password)
        record_event(
            store, None, "user_add", account.name, detail={"role": role, "by": "compliance users add"}
        )
    except StoreError as exc:
        fail(str(exc))
    click.echo(f"已创建 created: {account.name} ({account.role_zh} {role}) in {store.display}")


@users.command("list")
@db_option
def users_list(db: str | None) -> None:
    """List the accounts."""
    from engine.store.accounts import list_users

    for u in list_users(_open(db)):
        click.echo(f"{u.name}\t{u.role}\t{'active' if u.active else 'disabled'}\t{u.last_login_at or ''}")


@users.command("passwd")
@click.argument("name")
@click.option("--password", envvar="COMPLIANCE_NEW_PASSWORD", default=None)
@db_option
def users_passwd(name: str, password: str | None, db: str | None) -> None:
    """Set a new password for NAME (and unlock it)."""
    from engine.store import StoreError
    from engine.store.accounts import set_password

    if password is None:
        password = getpass.getpass("新密码 new password: ")
    try:
        set_password(_open(db), name, password)
    except StoreError as exc:
        fail(str(exc))
    click.echo(f"已更新 updated: {name}")
