"""Options and helpers shared by commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from engine.policy.loader import PolicyError
from engine.policy.policy import Policy

EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE = 0, 1, 2


def rules_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
                        help="Extra policy pack folder (repeatable); the built-in Heze pack is always loaded.")(f)


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    click.echo(f"错误 error: {message}", err=True)
    sys.exit(code)


def policy_or_exit(rules_dirs: tuple[str, ...] = ()) -> Policy:
    from engine.policy.cache import load_policy_cached
    from engine.policy.config import ConfigError, pack_dirs

    try:
        # + compliance.toml / COMPLIANCE_RULES packs; compiled once per fingerprint (engine/policy/cache.py)
        return load_policy_cached(pack_dirs(rules_dirs))
    except ConfigError as exc:
        fail(f"配置文件有误 config: {exc}")
    except PolicyError as exc:
        for e in exc.errors:
            click.echo(f"规则错误 rule error: {e}", err=True)
        fail(f"政策包中有 {len(exc.errors)} 处问题,未作任何评价 ({len(exc.errors)} problem(s) in the rule packs)")
