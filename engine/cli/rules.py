"""`compliance rules ...`: the group, with list and show; test and lint are rules_check.py, new-pack and new rules_scaffold.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from engine.cli.common import echo_json, fail, json_format_option, policy_or_exit, rules_option
from engine.policy.compiler import CompiledCheck
from engine.policy.expression_text import render
from engine.policy.terms import NATURE_ZH, OP_ZH


@click.group()
def rules() -> None:
    """政策规则 Rule packs: list, show, test, lint, new, new-pack."""


@rules.command("list")
@json_format_option
@rules_option
def list_(fmt: str, rules_dirs: tuple[str, ...]) -> None:
    """List every measure of every pack with its checks."""
    policy = policy_or_exit(rules_dirs)
    measures: list[dict[str, Any]] = []
    for cp in policy.packs:
        for ms in cp.pack.measures:
            m = ms.measure
            measures.append(
                {
                    "pack": cp.id,
                    "document": cp.pack.meta.number,
                    "measure": m.measure,
                    "title": m.title,
                    "section": m.section,
                    "source": " ".join(m.source.split()),
                    "lead_departments": m.lead_departments,
                    "file": str(ms.path),
                    "checks": [
                        {
                            "id": f"{cp.id}:{c.id}",
                            "title": c.title,
                            "subject": c.subject,
                            "nature": c.nature,
                            "role": c.role,
                            "soft": c.soft_on.words if c.soft_on else [],
                            "reported": c.reported,
                            "counted": c.counted,
                        }
                        for c in m.checks
                    ],
                    "aggregates": [f"{cp.id}:{a.id}" for a in m.aggregates],
                    "provenance": cp.pack.meta.provenance.model_dump(mode="json")
                    if cp.pack.meta.provenance
                    else None,
                }
            )
    if fmt == "json":
        echo_json(measures)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="政策条款 Measures")
    for col in ("政策包", "条", "标题", "章节", "牵头单位", "检查项"):
        t.add_column(col, overflow="fold")
    for row in measures:
        t.add_row(
            str(row["pack"]),
            str(row["measure"]),
            str(row["title"]),
            str(row["section"]),
            "、".join(row["lead_departments"]),
            str(len(row["checks"])),
        )
    console = Console()
    console.print(t)
    for cp in policy.packs:
        prov = cp.pack.meta.provenance
        if prov is not None:
            where = ";".join(x for x in (prov.publication, prov.url, prov.note) if x)
            console.print(f"{cp.id} {cp.pack.meta.number} 来源:{where}", markup=False)


@rules.command("show")
@click.argument("ident")
@click.option(
    "--history", is_flag=True, help="List every version of the check (dated thresholds, amendments)."
)
@json_format_option
@rules_option
def show(ident: str, history: bool, fmt: str, rules_dirs: tuple[str, ...]) -> None:
    """Show one measure (by number) or one check (by id) with its source text."""
    policy = policy_or_exit(rules_dirs)
    if history:
        cc = policy.find_check(ident)
        if cc is None:
            fail(f"no check {ident!r} (use the id shown by `compliance rules list`)")
        if fmt == "json":
            echo_json(_history_json(cc))
        else:
            _history(cc)
        return
    measures = [
        (cp, ms)
        for cp in policy.packs
        for ms in cp.pack.measures
        if ident.isdigit() and ms.measure.measure == int(ident)
    ]
    if not measures:
        cc = policy.find_check(ident)
        if cc is None:
            fail(f"no measure or check {ident!r}")
        measures = [
            (cp, ms)
            for cp in policy.packs
            for ms in cp.pack.measures
            if cp.id == cc.pack_id and ms.measure is cc.measure
        ]
    if fmt == "json":
        echo_json([_measure_json(cp, ms, ident) for cp, ms in measures])
        return
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
                shown = ("是" if v.value else "否") if isinstance(v.value, bool) else v.value
                click.echo(
                    f"    标准: {c.quantity} {OP_ZH[c.op]} {shown}{c.threshold.unit or c.unit or ''}"
                    f"{'左右' if c.approx else ''}  (自{v.start}起{'; ' + v.reference if v.reference else ''})"
                )
            if c.due:
                click.echo(f"    期限: {c.due}")
            if c.role == "inclusion":
                click.echo("    计入标准 inclusion rule: 不达标的记录不计入(不适用),而非不符合")
            if c.soft_on:
                click.echo(
                    f"    软性用语 soft: {c.soft_on.text},容差带 band {c.soft_on.band}(带内结论需人工复核)"
                )
            if c.reported:
                click.echo(f"    现成数值 reported: {c.reported}(分项缺失时按填报数判定并注明)")
            if c.counted:
                click.echo(f"    按下级记录统计 counted: {c.counted}")
            if c.baseline:
                ref = (
                    f";参考值 {c.baseline.reference.value}({c.baseline.reference.source})"
                    if c.baseline.reference
                    else ""
                )
                click.echo(f"    基期 baseline: {c.baseline.year}年(取同一对象该年的报告){ref}")
            if c.interpretation:
                click.echo(f"    解释: {' '.join(c.interpretation.split())}")
            click.echo(f"    示例: {len(c.examples)}")


def _measure_json(cp: Any, ms: Any, ident: str) -> dict[str, Any]:
    """A measure as `rules show --format json` prints it: the rule file's content (examples counted)."""
    m = ms.measure
    checks = [
        {"full_id": f"{cp.id}:{c.id}", **c.model_dump(exclude={"examples"}), "examples": len(c.examples)}
        for c in m.checks
        if ident.isdigit() or ident in (c.id, f"{cp.id}:{c.id}")
    ]
    return {
        "pack": cp.id,
        "document": cp.pack.meta.number,
        "file": str(ms.path),
        **m.model_dump(exclude={"checks"}),
        "checks": checks,
    }


def _history_json(cc: CompiledCheck) -> dict[str, Any]:
    c = cc.check
    versions = [
        {
            "version": seg.version,
            "start": seg.start,
            "end": seg.end,
            "threshold": render(seg.threshold),
            "threshold_version": seg.threshold_version,
            "threshold_start": seg.threshold_value.start,
            "reference": seg.threshold_value.reference,
            "applies": render(seg.applies) if seg.applies is not None else None,
            "amendment": seg.amendment,
            "supersedes": list(seg.supersedes or []),
        }
        for seg in cc.segments
    ]
    return {
        "check": cc.full_id,
        "title": c.title,
        "file": str(cc.file),
        "line": cc.line,
        "quantity": c.quantity,
        "op": c.op,
        "unit": c.threshold.unit or c.unit,
        "versions": versions,
        "superseded_by": c.superseded_by,
    }


def _history(cc: CompiledCheck) -> None:
    c = cc.check
    unit = c.threshold.unit or c.unit or ""
    click.echo(f"[{cc.full_id}] {c.title}  ({Path(cc.file).name}:{cc.line})")
    click.echo(f"  数值 quantity: {c.quantity}  比较 {OP_ZH[c.op]} ({c.op})")
    if not cc.segments:
        click.echo("  无有效版本:生效前已被取代 (no version in force)")
    for seg in cc.segments:
        t = seg.threshold_value
        parts = [
            f"v{seg.version}",
            f"{seg.start}–{seg.end}",
            f"标准 {OP_ZH[c.op]} {render(seg.threshold)}{unit}",
            f"(阈值版本{seg.threshold_version}: 自{t.start}起{'; ' + t.reference if t.reference else ''})",
        ]
        applies = render(seg.applies) if seg.applies is not None else "全部适用"
        parts.append(f"适用: {applies}")
        if seg.amendment:
            am = c.amendments[seg.amendment - 1]
            parts.append(
                f"修订{seg.amendment}(自{am.start}起"
                + "".join(f"; {x}" for x in (am.reference, am.note) if x)
                + ")"
            )
        if seg.supersedes:
            parts.append(f"取代 {'、'.join(seg.supersedes)}")
        click.echo("  " + "  ".join(parts))
    if c.superseded_by:
        last = cc.segments[-1].end if cc.segments else None
        click.echo(f"  由 {c.superseded_by} 取代" + (f"(本项判定至 {last})" if last else ""))


# test and lint, new-pack and new live in their own modules; importing them adds them to the group.
from engine.cli import rules_check, rules_scaffold  # noqa: E402,F401,I001
