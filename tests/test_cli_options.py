"""One meaning per option name across every command (issue 14).

The rule, checked on the whole click command tree: an option name (long or short) names the same
parameter everywhere it is used, with the same kind of value (a flag, or a value); and a parameter is
spelled with the same long names everywhere (no ``--output`` here and ``--out`` there). A name that
used to mean something else in one command (``--reviewer`` in letters was the office, in ``evaluate``
it is the person) is retired there: hidden, and an error that points to the option to use.
"""

from __future__ import annotations

from collections import defaultdict

import click
import pytest
from click.testing import CliRunner

from engine.cli import main


def _options() -> list[tuple[str, click.Option]]:
    ctx = click.Context(main)
    out: list[tuple[str, click.Option]] = []

    def walk(cmd: click.Command, path: str) -> None:
        out.extend((path, p) for p in cmd.params if isinstance(p, click.Option))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, f"{path} {name}".strip())

    walk(main, "")
    return out


def _retired(p: click.Option) -> bool:
    return p.hidden and not p.expose_value


def test_no_option_name_means_two_things_across_commands() -> None:
    uses: dict[str, set[tuple[str | None, bool]]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)
    for path, p in _options():
        if _retired(p) or p.name == "help":
            continue
        for name in (*p.opts, *p.secondary_opts):
            uses[name].add((p.name, p.is_flag))
            where[name].append(f"{path or 'compliance'}: {p.name}{' (flag)' if p.is_flag else ''}")
    clashes = {name: where[name] for name, u in uses.items() if len(u) > 1}
    assert not clashes, clashes


def test_a_parameter_has_the_same_long_names_in_every_command() -> None:
    spellings: dict[str | None, set[frozenset[str]]] = defaultdict(set)
    for _, p in _options():
        if not _retired(p) and p.name != "help":
            spellings[p.name].add(frozenset(o for o in (*p.opts, *p.secondary_opts) if o.startswith("--")))
    differing = {name: sorted(map(sorted, s)) for name, s in spellings.items() if len(s) > 1}
    assert not differing, differing


@pytest.mark.parametrize(
    ("args", "instead"),
    [
        (["letter", "P-1", "--reviewer", "单县住房和城乡建设局"], "--office"),
        (["notice", "town", "单县浮岗镇", "--reviewer", "单县住房和城乡建设局"], "--office"),
        (["rules", "new-pack", "{dir}", "--from", "2024-01-01"], "--valid-from"),
        (["rules", "new-pack", "{dir}", "--to", "2025-12-31"], "--valid-to"),
    ],
)
def test_a_retired_option_is_an_error_naming_the_option_to_use(
    args: list[str], instead: str, tmp_path
) -> None:
    result = CliRunner().invoke(main, [a.format(dir=tmp_path / "x") for a in args])
    assert result.exit_code == 2
    assert "已停用" in result.output and instead in result.output
    assert not (tmp_path / "x" / "pack.yaml").exists()


def test_retired_options_are_not_in_the_help() -> None:
    for args in (["letter", "--help"], ["notice", "--help"]):
        text = CliRunner().invoke(main, args).output
        assert "--office" in text and "--reviewer" not in text
    text = CliRunner().invoke(main, ["rules", "new-pack", "--help"]).output
    assert "--valid-from" in text and "--from " not in text
