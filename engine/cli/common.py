"""Options and helpers shared by commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from engine.policy.loader import PolicyError
from engine.policy.policy import Policy

EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE = 0, 1, 2


def rules_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--rules",
        "rules_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        help="Extra policy pack folder (repeatable); the built-in Heze pack is always loaded.",
    )(f)


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    click.echo(f"错误 error: {message}", err=True)
    sys.exit(code)


def policy_or_exit(rules_dirs: tuple[str, ...] = ()) -> Policy:
    from engine.policy.cache import load_policy_cached
    from engine.policy.config import ConfigError, pack_dirs

    try:
        # + compliance.toml / COMPLIANCE_RULES packs; compiled once per fingerprint (engine/policy/cache.py)
        dirs: list[str | Path] = [*pack_dirs(rules_dirs)]  # load_policy_cached takes list[str | Path]
        return load_policy_cached(dirs)
    except ConfigError as exc:
        fail(f"配置文件有误 config: {exc}")
    except PolicyError as exc:
        for e in exc.errors:
            click.echo(f"规则错误 rule error: {e}", err=True)
        fail(
            f"政策包中有 {len(exc.errors)} 处问题,未作任何评价 ({len(exc.errors)} problem(s) in the rule packs)"
        )


def jsonable(obj: Any) -> Any:
    """Plain JSON data: models as dicts, decimals as their exact text ("13.714286", never a float that
    could change the value), dates and times in ISO 8601."""
    import datetime as dt
    from decimal import Decimal

    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="python")
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, dt.date | dt.datetime | dt.time):
        return obj.isoformat()
    return obj


def echo_json(obj: Any) -> None:
    """One JSON document on stdout (UTF-8, Chinese as written)."""
    import json

    click.echo(json.dumps(jsonable(obj), ensure_ascii=False, indent=2))


def json_format_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table 表格;json 一个 JSON 文档(数值为精确的字符串,日期为 ISO 8601)。 "
        "table for people; json: one JSON document for programs.",
    )(f)


def retired_option(name: str, instead: str, hint_zh: str) -> Callable[..., Any]:
    """An option name this command no longer takes (it meant something else here than elsewhere):
    hidden, and an error naming the option to use instead. tests/test_cli_options.py skips these."""

    def reject(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None:
            raise click.UsageError(
                f"{name} 在此命令中已停用,请改用 {instead}({hint_zh})。"
                f" {name} is no longer accepted here; use {instead}.",
                ctx,
            )
        return value

    dest = "retired_" + name.lstrip("-").replace("-", "_")
    return click.option(
        name,
        dest,
        hidden=True,
        expose_value=False,
        callback=reject,
        default=None,
        help=f"Retired: use {instead}.",
    )
