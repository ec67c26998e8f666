"""`compliance rules ...`: list, show, test, lint and scaffold the rule packs."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path
from typing import Any

import click

from engine.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    echo_json,
    fail,
    json_format_option,
    policy_or_exit,
    retired_option,
    rules_option,
)
from engine.policy.compiler import CompiledCheck
from engine.policy.expression_text import render
from engine.policy.terms import NATURE_ZH, OP_ZH, STATUS_ZH


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


@rules.command("new-pack")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--id", "pack_id", help="Pack id, e.g. lu-2024 (default: derived from the folder name).")
@click.option("--title", help="文件标题 Title of the document.")
@click.option("--number", help="文号, e.g. 鲁政发〔2024〕1号.")
@click.option("--issuer", help="发文机关, e.g. 山东省人民政府.")
@click.option(
    "--issued-on", "issued_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="印发日期 YYYY-MM-DD."
)
@click.option("--valid-from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="有效期起 YYYY-MM-DD.")
@click.option("--valid-to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="有效期止 YYYY-MM-DD.")
# --from names record files elsewhere (letter, notice): one meaning per option name.
@retired_option("--from", "--valid-from", "有效期起")
@retired_option("--to", "--valid-to", "有效期止")
@click.option("--implements", help="上级文件 the document this one implements.")
@click.option("--force", is_flag=True, help="Overwrite an existing pack.yaml.")
def new_pack(
    directory: str,
    pack_id: str | None,
    title: str | None,
    number: str | None,
    issuer: str | None,
    issued_on: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    implements: str | None,
    force: bool,
) -> None:
    """Write DIRECTORY/pack.yaml; what is not given is left as 待填写 for lint to flag.

    The pack id is --id, else derived from the folder's name (lu-2024 from "Lu 2024"); a name it
    cannot come from (Chinese characters only) asks for --id.
    """
    from engine.authoring.scaffold import pack_id_from_folder, pack_yaml, write_new
    from engine.policy.terms import is_valid_id

    root = Path(directory)
    rule = "小写英文字母、数字、点、下划线或连字符,以字母或数字开头,最长81个字符"
    if pack_id is not None and not is_valid_id(pack_id):
        fail(
            f"政策包编号“{pack_id}”不合格式(须为{rule}),例如 --id lu-2024。"
            f" Invalid pack id {pack_id!r}: lowercase letters, digits, '.', '_' and '-'."
        )
    if pack_id is None:
        name = root.resolve().name
        pack_id = pack_id_from_folder(name)
        if pack_id is None:
            fail(
                f"无法从文件夹名“{name}”得出政策包编号(须为{rule},且含英文字母):"
                f"请用 --id 指定,例如 --id lu-2024。"
                f" Cannot derive a pack id from the folder name {name!r}; give one with --id."
            )
        if pack_id != name:
            click.echo(f"政策包编号 pack id: {pack_id}(由文件夹名“{name}”得出,可用 --id 另行指定)")
    text = pack_yaml(
        pack_id=pack_id,
        title=title,
        number=number,
        issuer=issuer,
        issued_on=issued_on.date() if issued_on else None,
        start=start.date() if start else None,
        end=end.date() if end else None,
        implements=implements,
    )
    try:
        write_new(root / "pack.yaml", text, force)
    except FileExistsError as exc:
        fail(str(exc))
    click.echo(f"已创建 created {root / 'pack.yaml'}")
    click.echo(
        f'下一步 next: compliance rules new --pack {shlex.quote(directory)} --measure N --title "条款标题"'
    )


@rules.command("new")
@click.option(
    "--pack",
    "pack",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The pack: its folder (made with `rules new-pack`).",
)
@click.option("--measure", type=click.IntRange(0, 999), required=True, help="条款序号 measure number.")
@click.option("--title", required=True, help="条款标题 title of the measure.")
@click.option(
    "--subject",
    type=click.Choice(["project", "town", "county", "city", "enterprise", "department"]),
    default="project",
    show_default=True,
    help="Kind of record the example check reviews.",
)
@click.option("--name", "slug", default=None, help="Short English name for the file, e.g. invest-per-mu.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(pack: str, measure: int, title: str, subject: str, slug: str | None, force: bool) -> None:
    """Write a commented rule file for one measure, with an example check to adapt."""
    from engine.authoring.scaffold import rule_file_name, rule_yaml, write_new
    from engine.policy.loader import BASE_CATALOG, FIELDS_FILE, rule_files
    from engine.records.catalog import catalog_files, load_catalog
    from engine.records.yamlsource import YamlSourceError, load_yaml_file

    pack_dir = pack
    root = Path(pack_dir)
    number, start = None, None
    try:  # best effort: a pack.yaml with placeholders still gives what it has
        meta = load_yaml_file(root / "pack.yaml").data or {}
        number = (
            meta.get("number")
            if isinstance(meta.get("number"), str) and "待填写" not in meta["number"]
            else None
        )
        period = meta.get("period") or {}
        start = period.get("from") if isinstance(period.get("from"), dt.date) else None
    except (YamlSourceError, OSError, AttributeError):
        pass
    for f in rule_files(root):
        try:
            data = load_yaml_file(f).data
        except YamlSourceError:
            continue
        if isinstance(data, dict) and data.get("measure") == measure:
            fail(f"measure {measure} is already in {f}")
    files = catalog_files(BASE_CATALOG) + ([root / FIELDS_FILE] if (root / FIELDS_FILE).is_file() else [])
    try:
        catalog = load_catalog(files)
    except YamlSourceError as exc:
        fail(str(exc))
    path = root / rule_file_name(measure, slug)
    try:
        write_new(
            path,
            rule_yaml(
                measure=measure,
                title=title,
                pack_number=number,
                start=start,
                catalog=catalog,
                subject=subject,
            ),
            force,
        )
    except FileExistsError as exc:
        fail(str(exc))
    click.echo(f"已创建 created {path}")
    click.echo(f"下一步 next: 按说明修改后运行 compliance rules lint {pack_dir}")
