"""`compliance rules ...`: list, show and test the rule packs."""

from __future__ import annotations

import json

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, fail, policy_or_exit, rules_option
from engine.policy.schema import NATURE_ZH, OP_ZH, STATUS_ZH


@click.group()
def rules() -> None:
    """政策规则 Rule packs: list, show, test."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@rules_option
def list_(fmt: str, rules_dirs: tuple[str, ...]) -> None:
    """List every measure of every pack with its checks."""
    policy = policy_or_exit(rules_dirs)
    measures = []
    for cp in policy.packs:
        for ms in cp.pack.measures:
            m = ms.measure
            measures.append({
                "pack": cp.id, "document": cp.pack.meta.number, "measure": m.measure, "title": m.title,
                "section": m.section, "source": " ".join(m.source.split()), "lead_departments": m.lead_departments,
                "file": str(ms.path),
                "checks": [{"id": f"{cp.id}:{c.id}", "title": c.title, "subject": c.subject, "nature": c.nature}
                           for c in m.checks],
            })
    if fmt == "json":
        click.echo(json.dumps(measures, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="政策条款 Measures")
    for col in ("政策包", "条", "标题", "章节", "牵头单位", "检查项"):
        t.add_column(col, overflow="fold")
    for m in measures:
        t.add_row(m["pack"], str(m["measure"]), m["title"], m["section"], "、".join(m["lead_departments"]),
                  str(len(m["checks"])))
    Console().print(t)


@rules.command("show")
@click.argument("ident")
@rules_option
def show(ident: str, rules_dirs: tuple[str, ...]) -> None:
    """Show one measure (by number) or one check (by id) with its source text."""
    policy = policy_or_exit(rules_dirs)
    measures = [(cp, ms) for cp in policy.packs for ms in cp.pack.measures
                if ident.isdigit() and ms.measure.measure == int(ident)]
    if not measures:
        cc = policy.find_check(ident)
        if cc is None:
            fail(f"no measure or check {ident!r}")
        measures = [(cp, ms) for cp in policy.packs for ms in cp.pack.measures
                    if cp.id == cc.pack_id and ms.measure is cc.measure]
    for cp, ms in measures:
        m = ms.measure
        click.echo(f"{cp.pack.meta.number} 第{m.measure}条 {m.title}  [{m.section}]")
        click.echo(f"牵头单位: {'、'.join(m.lead_departments)}")
        click.echo(f"原文: {' '.join(m.source.split())}")
        click.echo(f"文件: {ms.path}")
        for c in m.checks:
            full = f"{cp.id}:{c.id}"
            if not ident.isdigit() and ident not in (c.id, full):
                continue
            click.echo("")
            click.echo(f"  [{full}] {c.title}")
            click.echo(f"    对象 subject: {c.subject}   性质 nature: {NATURE_ZH[c.nature]} ({c.nature})")
            click.echo(f"    依据: {' '.join(c.source.split())}")
            if c.applies_when:
                click.echo(f"    适用条件: {c.applies_when}")
            for v in c.threshold.values:
                click.echo(f"    标准: {c.quantity} {OP_ZH[c.op]} {v.value}{c.threshold.unit or c.unit or ''}"
                           f"{'左右' if c.approx else ''}  (自{v.start}起{'; ' + v.reference if v.reference else ''})")
            if c.due:
                click.echo(f"    期限: {c.due}")
            if c.interpretation:
                click.echo(f"    解释: {' '.join(c.interpretation.split())}")
            click.echo(f"    示例: {len(c.examples)}")


@rules.command("test")
@click.option("--coverage", is_flag=True, help="Show which statuses each check's examples reach.")
@click.option("--engine", "engine_name", type=click.Choice(["durable", "python"]), default="durable", hidden=True)
@rules_option
def test(coverage: bool, engine_name: str, rules_dirs: tuple[str, ...]) -> None:
    """Run every example embedded in the rule files."""
    from engine.evaluation.examples import run_examples

    policy = policy_or_exit(rules_dirs)
    report = run_examples(policy, engine_name)  # type: ignore[arg-type]
    for r in report.failures:
        click.echo(f"FAIL {r.file}:{r.line or ''} {r.check.full_id} 「{r.name}」 expected {r.expected}, "
                   f"got {r.actual or 'nothing'}: {r.message}", err=True)
    if coverage:
        cov = report.coverage()
        lacking = 0
        for cid, statuses in sorted(cov.items()):
            miss = [s for s in ("compliant", "non_compliant") if s not in statuses]
            lacking += bool(miss)
            mark = "  " if not miss else "!!"
            click.echo(f"{mark} {cid}: " + ", ".join(f"{STATUS_ZH[s]}({s})" for s in sorted(statuses))
                       + (f"  — lacks {', '.join(miss)}" if miss else ""))
        click.echo(f"{len(cov)} checks, {lacking} lacking a compliant or non-compliant example")
    n_fail = len(report.failures)
    click.echo(f"{len(report.results) - n_fail} passed, {n_fail} failed")
    raise SystemExit(EXIT_PARTIAL if n_fail else EXIT_OK)
