"""Reading the store: `compliance runs`, `runs show`, `history`, `diff` (tables for people, or --format json)."""

from __future__ import annotations

import click

from engine.cli.common import echo_json, fail, json_format_option
from engine.cli.output import measure_label
from engine.cli.store import (
    CATEGORY_ZH,
    CHANGE_ZH,
    FIELD_ZH,
    console,
    db_option,
    field_label,
    open_store,
    store_location,
    store_missing,
    table,
    when,
)
from engine.evaluation.findings import value_text
from engine.policy.terms import OP_ZH, STATUS_ZH
from engine.store import StoreError
from engine.store.diffs import RecordKey, compare_runs
from engine.store.finding_reads import FindingChange
from engine.store.record_reads import record_history
from engine.store.run_reads import list_runs, run_detail

# --- runs -----------------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@db_option
@json_format_option
@click.pass_context
def runs(ctx: click.Context, db: str | None, fmt: str) -> None:
    """评价批次及存储位置 List stored evaluation runs and where the store is; `runs show RUN` for one."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    where = store_location(db)
    missing = store_missing(db)
    if missing is not None:  # say where it would be; create nothing
        if fmt == "json":
            echo_json({"store": where, "exists": False, "runs": []})
        else:
            click.echo(
                f"存储位置 store: {where}\n还没有存储:首次运行 compliance evaluate 时在此创建"
                f"(--db 或环境变量 COMPLIANCE_DB 可另选位置)。"
            )
        return
    store = open_store(db)
    with store:
        items = list_runs(store)
    if fmt == "json":
        echo_json({"store": where, "exists": True, "runs": items})
        return
    click.echo(f"存储位置 store: {where}")
    if not items:
        click.echo("存储中还没有评价记录。")
        return
    shown = ("compliant", "non_compliant", "insufficient_data", "behind_schedule")
    t = table(
        "评价批次",
        ("批次", "开始时间", "审查人", "评价日期", "状态", "记录", "退回", *(STATUS_ZH[k] for k in shown)),
    )
    for r in items:
        done = r.finished_at is not None
        t.add_row(
            str(r.id),
            when(r.started_at)[:16],
            r.reviewer,
            r.as_of.isoformat() if r.as_of else "按记录日期",
            "已完成" if done else "未完成",
            str(r.n_records) if done else "—",
            str(r.n_rejected) if done else "—",
            *((str(r.counts.get(k, 0)) if done else "—") for k in shown),
        )
    console().print(t)


@runs.command("show")
@click.argument("run_id", metavar="RUN", type=int)
@db_option
@json_format_option
@click.pass_context
def runs_show(ctx: click.Context, run_id: int, db: str | None, fmt: str) -> None:
    """One run: who, when, which rules and files, and its counts by status."""
    store = open_store(db or (ctx.obj or {}).get("db"))
    with store:
        try:
            d = run_detail(store, run_id)
        except StoreError as exc:
            fail(str(exc))
    if fmt == "json":
        echo_json(d)
        return
    s = d.summary
    state = "已完成" if s.finished_at else f"未完成(可用 compliance evaluate --resume {s.id} 续评)"
    lines = [
        f"评价批次 {s.id}:{state}",
        f"开始时间:{when(s.started_at)}    完成时间:{when(s.finished_at)}",
        f"审查人:{s.reviewer}",
        f"评价日期:{s.as_of.isoformat() if s.as_of else '按各记录自身日期'}",
        f"引擎:{d.engine} {d.engine_version}    分块:{d.chunk_size} 条/块,已提交 {d.chunks_committed} 块"
        + (f",续评 {d.resumed} 次" if d.resumed else ""),
        f"规则指纹:{d.policy_fingerprint}",
        "规则包:",
        *[f"  {p.pack_id} 《{p.title}》{p.number} 指纹 {p.fingerprint}" for p in d.packs],
        *([f"附加规则目录:{', '.join(d.rules_dirs)}"] if d.rules_dirs else []),
        "输入文件:",
        *[f"  {i.path}  sha256 {i.sha256[:16] or '(无法读取)'}  {i.size} 字节" for i in d.inputs],
        f"记录:有效 {s.n_records} 条,退回 {s.n_rejected} 条,无法使用的文件 {s.n_file_problems} 个",
        *(
            [
                f"其他:{'、'.join(f'{CATEGORY_ZH[k]} {v}' for k, v in d.messages.items() if k in ('warning', 'notice'))}"
            ]
            if any(k in d.messages for k in ("warning", "notice"))
            else []
        ),
        f"结论:共 {s.n_findings} 项",
    ]
    click.echo("\n".join(lines))
    t = table(None, ("结论", "状态代码", "数量"))
    for k, label in STATUS_ZH.items():
        t.add_row(label, k, str(s.counts.get(k, 0)))
    console().print(t)


# --- history --------------------------------------------------------------------------------------


@click.command()
@click.argument("record_id")
@db_option
@json_format_option
def history(record_id: str, db: str | None, fmt: str) -> None:
    """Every run that judged a record, its status per check, and what changed between runs."""
    store = open_store(db)
    with store:
        try:
            hists = record_history(store, record_id)
        except StoreError as exc:
            fail(str(exc))
    if fmt == "json":
        echo_json({"record_id": record_id, "histories": hists})
        return
    from rich.text import Text

    con = console()
    for h in hists:
        period = f",{h.period}年度" if h.period else ""
        name = next((v.name for v in reversed(h.versions) if v.name), None)
        con.print(
            Text.assemble(
                (f"记录 {h.record_id}{f' {name}' if name else ''}({h.kind}{period})", "bold"),
                f":共 {len(h.versions)} 个版本,{len(h.runs)} 次评价",
            )
        )
        for j in h.runs:
            con.print(
                Text.assemble(
                    ("\n评价批次 " + str(j.run.id), "bold"),
                    f"  {when(j.run.started_at)}  审查人 {j.run.reviewer}  记录版本 v{j.version}"
                    + (f"  来源 {j.source}" if j.source else ""),
                )
            )
            t = table(None, ("条款", "检查项", "结论", "实际值", "标准", "单位"))
            for f in j.findings:
                t.add_row(
                    measure_label(f.measure),
                    f.check_title,
                    STATUS_ZH.get(f.status, f.status),
                    value_text(f.value),
                    "" if f.threshold is None else f"{OP_ZH.get(f.op, f.op)} {value_text(f.threshold)}",
                    f.unit or "",
                )
            con.print(t)
            if j is h.runs[0]:
                continue
            if not j.field_changes and not j.finding_changes:
                con.print("与上次评价相比:无变化")
                continue
            con.print("与上次评价相比:")
            for c in j.field_changes:
                con.print(
                    f"  数据 {field_label(h.kind, c.field)}:{value_text(c.before)} → {value_text(c.after)}"
                )
            for fc in j.finding_changes:
                con.print("  " + _change_line(fc))
        con.print()


def _change_line(c: FindingChange) -> str:
    if c.change == "added":
        assert c.after is not None
        return f"新增 {c.check_title}:{STATUS_ZH.get(c.after.status)}(实际值 {value_text(c.after.value)})"
    if c.change == "removed":
        assert c.before is not None
        return (
            f"删除 {c.check_title}:原为{STATUS_ZH.get(c.before.status)}(实际值 {value_text(c.before.value)})"
        )
    assert c.before is not None and c.after is not None
    parts = []
    for k in c.fields:
        a, b = getattr(c.before, k), getattr(c.after, k)
        if k == "status":
            a, b = STATUS_ZH.get(a, a), STATUS_ZH.get(b, b)
        parts.append(f"{FIELD_ZH[k]} {value_text(a)} → {value_text(b)}")
    return f"变化 {c.check_title}:" + ";".join(parts)


# --- diff -----------------------------------------------------------------------------------------


def _record_key(k: RecordKey) -> dict[str, str]:
    return {"kind": k[0], "record_id": k[1], "period": k[2]}


@click.command()
@click.argument("run_a", metavar="RUN_A", type=int)
@click.argument("run_b", metavar="RUN_B", type=int)
@click.option(
    "--all-records",
    "one_sided",
    is_flag=True,
    help="也列出只在一个批次中的记录的结论(均为新增或删除);默认只计数。 Also list the findings of "
    "records only one run judged; by default they are only counted.",
)
@db_option
@json_format_option
def diff(run_a: int, run_b: int, one_sided: bool, db: str | None, fmt: str) -> None:
    """结论变化:两批次共有记录的结论变化,只在一个批次中的记录另行计数。

    Findings that changed from RUN_A to RUN_B (status, value, threshold or check version; added,
    removed), for the records both runs judged; records only one run judged are counted apart."""
    all_records = one_sided  # (letter's --every-project is another thing: every project of a run)
    store = open_store(db)
    with store:
        try:
            d = compare_runs(store, run_a, run_b, all_records=all_records)
        except StoreError as exc:
            fail(str(exc))
    if fmt == "json":
        echo_json(
            {
                "run_a": run_a,
                "run_b": run_b,
                "all_records": all_records,
                "records_in_both": d.n_common,
                "only_in_a": [_record_key(k) for k in d.only_in_a],
                "only_in_b": [_record_key(k) for k in d.only_in_b],
                "changes": d.changes,
            }
        )
        return
    changes = d.changes
    scope = "" if all_records else f"(两批次共有的 {d.n_common} 条记录)"
    if not changes and not all_records and not d.n_common:
        click.echo(f"评价批次 {run_a} 与 {run_b} 没有共同的记录,无可比较的结论。")
    elif not changes:
        click.echo(f"评价批次 {run_a} 与 {run_b} 的结论一致{scope},无变化。")
    else:
        t = table(
            f"评价批次 {run_a} → {run_b} 的结论变化{scope}",
            (
                "变化",
                "记录",
                "名称",
                "检查项",
                "原结论",
                "新结论",
                "原实际值",
                "新实际值",
                "原标准",
                "新标准",
            ),
        )
        for c in changes:
            a, b = c.before, c.after
            t.add_row(
                CHANGE_ZH[c.change],
                c.record_id + (f"({c.period})" if c.period else ""),
                c.record_name or "",
                c.check_title,
                STATUS_ZH.get(a.status, "") if a else "—",
                STATUS_ZH.get(b.status, "") if b else "—",
                value_text(a.value) if a else "—",
                value_text(b.value) if b else "—",
                value_text(a.threshold) if a else "—",
                value_text(b.threshold) if b else "—",
            )
        console().print(t)
        by = {k: sum(1 for c in changes if c.change == k) for k in CHANGE_ZH}
        click.echo("共 " + ",".join(f"{CHANGE_ZH[k]} {v} 项" for k, v in by.items()))
    if d.only_in_a or d.only_in_b:
        hint = "(其结论已列入上表)" if all_records else "(其结论未比较;加 --all-records 列出)"
        click.echo(
            f"仅在批次{run_a}中的记录 {len(d.only_in_a)} 条 / 仅在批次{run_b}中的记录 {len(d.only_in_b)} 条{hint}"
        )
