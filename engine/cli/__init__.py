"""The `compliance` command: wires the stages together, nothing more.

Each command group lives in its own module and registers itself here.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from engine import __version__


class LazyGroup(click.Group):
    """Imports a command's module only when that command is used (or listed by --help).

    `compliance evaluate one.json` then starts without loading SQLAlchemy, Alembic or the letter
    renderers it does not need (about half a second of a cold start).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def add_lazy(self, name: str, module: str, attr: str | None = None) -> None:
        self.lazy[name] = (module, attr or name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(dict.fromkeys([*super().list_commands(ctx), *self.lazy]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            module, attr = self.lazy[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def main() -> None:
    """菏政发〔2024〕11号 新型城镇化政策符合性审查工具 (rules-as-code compliance evaluator)."""


def _register() -> None:
    assert isinstance(main, LazyGroup)
    main.add_lazy("evaluate", "engine.cli.evaluate")
    main.add_lazy("rules", "engine.cli.rules_index")  # rules_index adds `rules index` to `rules`
    for name in ("runs", "history", "diff"):
        main.add_lazy(name, "engine.cli.runs")
    main.add_lazy("export", "engine.cli.export")
    main.add_lazy("db", "engine.cli.maintenance")
    main.add_lazy("letter", "engine.cli.letters")
    main.add_lazy("notice", "engine.cli.progress_notices")  # progress notices
    for name in ("serve", "worker", "users"):  # the web workbench
        main.add_lazy(name, "engine.cli.web")


_register()
