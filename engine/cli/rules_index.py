"""`compliance rules index`: every quantitative phrase of the source text -> the checks that encode it."""

from __future__ import annotations

import json

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, fail, policy_or_exit, rules_option
from engine.cli.rules import rules


@rules.command("index")
@click.option("--markdown", is_flag=True, help="Print the index as a Markdown table (for INDEX.md).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json for programs.",
)
@click.option(
    "--pack",
    "pack",
    default="heze-2024",
    show_default=True,
    help="The pack: its id, or its folder (loaded like --rules).",
)
@rules_option
def index(markdown: bool, fmt: str, pack: str, rules_dirs: tuple[str, ...]) -> None:
    """Map every quantitative phrase of the pack's text to its checks; fail if one is unexplained."""
    from pathlib import Path

    from engine.policy.text_index import build_index
    from engine.policy.text_index import markdown as to_markdown

    folder = Path(pack)
    if folder.is_dir():
        policy = policy_or_exit((*rules_dirs, pack))
        cp = next((p for p in policy.packs if p.pack.root.resolve() == folder.resolve()), None)
    else:
        policy = policy_or_exit(rules_dirs)
        cp = next((p for p in policy.packs if p.id == pack), None)
    if cp is None:
        fail(f"没有政策包 no pack {pack!r}")
    entries, errors = build_index(cp.pack)
    for err in errors:
        click.echo(f"索引错误 index error: {err}", err=True)
    if markdown:
        click.echo(to_markdown(entries, f"{cp.pack.meta.number} {cp.pack.meta.title}"), nl=False)
    elif fmt == "json":
        click.echo(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=2))
    else:
        for e in entries:
            target = (
                ", ".join(e.checks)
                if e.checks
                else (f"(无检查项) {e.reason}" if e.reason else "!! 缺少检查项或理由")
            )
            click.echo(f"第{e.measure}条\t{e.phrase}\t{target}")
    missing = [e for e in entries if not e.covered]
    click.echo(
        f"{len(entries)} phrases, {len(entries) - len(missing)} covered or explained, {len(missing)} missing",
        err=True,
    )
    raise SystemExit(EXIT_PARTIAL if missing or errors else EXIT_OK)
