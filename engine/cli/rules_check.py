"""`compliance rules test` and `compliance rules lint`: run the packs' examples and tests, check the rule files."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, fail, policy_or_exit, rules_option
from engine.cli.rules import rules
from engine.policy.terms import STATUS_ZH


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("--coverage", is_flag=True, help="Show which statuses each check's examples reach.")
@click.option(
    "--engine", "engine_name", type=click.Choice(["durable", "python"]), default="durable", hidden=True
)
@rules_option
def test(paths: tuple[str, ...], coverage: bool, engine_name: str, rules_dirs: tuple[str, ...]) -> None:
    """Run the examples in the rule files and the packs' tests/*.yaml (all packs, or those at PATHS)."""
    from engine.authoring.testfiles import run_pack_tests
    from engine.evaluation.examples import run_examples

    policy = policy_or_exit(tuple(rules_dirs) + paths)
    roots = [Path(p).resolve() for p in paths] or [cp.pack.root.resolve() for cp in policy.packs]
    pack_ids = {cp.id for cp in policy.packs if cp.pack.root.resolve() in roots}
    report = run_examples(policy, engine_name, pack_ids)  # type: ignore[arg-type]
    extra, file_errors = run_pack_tests(policy, roots)
    report.results.extend(extra)
    for e in file_errors:
        click.echo(f"规则错误 test file error: {e}", err=True)
    for r in report.failures:
        click.echo(
            f"FAIL {r.file}:{r.line or ''} {r.check.full_id} 「{r.name}」 expected {r.expected}, "
            f"got {r.actual or 'nothing'}: {r.message}",
            err=True,
        )
    if coverage:
        cov = report.coverage()
        lacking = 0
        # An inclusion rule is never non_compliant: its examples show what counts and what does not.
        inclusion = {r.check.full_id for r in report.results if r.check.check.role == "inclusion"}
        for cid, statuses in sorted(cov.items()):
            wanted = ("compliant", "not_applicable") if cid in inclusion else ("compliant", "non_compliant")
            miss = [s for s in wanted if s not in statuses]
            lacking += bool(miss)
            mark = "  " if not miss else "!!"
            click.echo(
                f"{mark} {cid}: "
                + ", ".join(f"{STATUS_ZH[s]}({s})" for s in sorted(statuses))
                + (f"  — lacks {', '.join(miss)}" if miss else "")
            )
        click.echo(f"{len(cov)} checks, {lacking} lacking a compliant or non-compliant example")
    n_fail = len(report.failures) + len(file_errors)
    click.echo(f"{len(report.results) - len(report.failures)} passed, {n_fail} failed")
    raise SystemExit(EXIT_PARTIAL if n_fail else EXIT_OK)


@rules.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@rules_option
def lint_(paths: tuple[str, ...], rules_dirs: tuple[str, ...]) -> None:
    """Check rule packs (folders or rule files) and report problems with file:line:column.

    Exit status 0: clean; 1: problems found; 2: nothing could be checked.
    """
    from engine.authoring.lint import lint
    from engine.authoring.lintreport import format_problem
    from engine.policy.config import ConfigError, pack_dirs

    try:
        context = pack_dirs(rules_dirs)
    except ConfigError as exc:
        fail(f"config: {exc}")
    report = lint([Path(p) for p in paths], context)
    for u in report.unusable:
        click.echo(f"错误 error: {u}", err=True)
    if report.unusable:
        raise SystemExit(report.exit_code)
    for e in report.problems:
        click.echo(format_problem(e))
    for w in report.warnings:
        click.echo("提示 warning: " + format_problem(w))
    packs = "、".join(str(p) for p in report.packs)
    if report.problems:
        click.echo(f"{len(report.problems)} 个问题 problem(s) in {packs}")
    else:
        click.echo(f"通过 clean: {packs} ({report.rulesets} durable-rules ruleset(s) compiled)")
    raise SystemExit(report.exit_code)
