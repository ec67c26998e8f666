"""The `compliance` command: wires the stages together, nothing more.

Each command group lives in its own module and registers itself here.
"""

from __future__ import annotations

import click

from engine import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def main() -> None:
    """菏政发〔2024〕11号 新型城镇化政策符合性审查工具 (rules-as-code compliance evaluator)."""


def _register() -> None:
    from engine.cli import evaluate, rules, rules_index  # noqa: F401  (rules_index adds `rules index`)

    main.add_command(evaluate.evaluate)
    main.add_command(rules.rules)
    from engine.cli import store

    for command in (store.runs, store.history, store.diff, store.export, store.db):
        main.add_command(command)
    from engine.cli import letters  # letters and progress notices

    for command in (letters.letter, letters.notice):
        main.add_command(command)


_register()
