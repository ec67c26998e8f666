"""What `compliance evaluate` shows a person (issue 14): the findings that need action, in words.

One line per record with its counts, the findings to act on under it, the rest counted; notices
summarised at the end; yes/no as 是/否; stderr in Chinese first; a batch with nothing usable
leaves no run behind.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
RECORD_LINE = re.compile(
    r"^\S.*:符合 \d+ / 不符合 \d+ / (进度正常 \d+ / 进度滞后 \d+ / )?资料不足 \d+ / 需复核 \d+$"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _json_findings(*args: str) -> list[dict]:
    import json

    code, out, _ = run("evaluate", "--no-store", "--format", "json", *args)
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_default_output_lists_each_record_to_act_on_with_its_counts_and_only_the_findings_that_need_action():
    code, out, _ = run("evaluate", "--no-store", str(SAMPLES))
    assert code == 0
    rows = _json_findings(str(SAMPLES))
    need = [r for r in rows if r["status"] in ("non_compliant", "behind_schedule") or r["review"]]
    lines = out.splitlines()
    record_lines = [ln for ln in lines if not ln.startswith("  ") and not ln.startswith("另有")]
    finding_lines = [ln for ln in lines if ln.startswith("  ")]
    assert all(RECORD_LINE.match(ln) for ln in record_lines), [
        ln for ln in record_lines if not RECORD_LINE.match(ln)
    ]
    assert len(finding_lines) == len(need)  # every finding to act on, nothing else
    # one record: its id where it was read (a subject's two yearly reports are two records)
    judged = {(r["kind"], r["record_id"], r["file"], r["row"]) for r in rows}
    acted = {(r["kind"], r["record_id"], r["file"], r["row"]) for r in need}
    assert len(record_lines) == len(acted)
    assert (
        lines[-1]
        == f"另有 {len(judged) - len(acted)} 条记录无需处理(无不符合、进度滞后或需复核的结论;用 --all 列出全部)"
    )
    assert len(lines) < len(rows) / 4  # 1,400 findings do not become 2,500 lines


def test_a_record_line_counts_its_findings_and_its_non_compliant_findings_follow_it():
    _, out, _ = run("evaluate", "--no-store", str(SAMPLES))
    rows = [r for r in _json_findings(str(SAMPLES)) if r["record_id"] == "ENT-2025-03"]
    n = {s: sum(r["status"] == s for r in rows) for s in ("compliant", "non_compliant", "insufficient_data")}
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("ENT-2025-03 "))
    assert lines[at] == (
        f"ENT-2025-03 曹县华韵服饰有限公司:符合 {n['compliant']} / 不符合 {n['non_compliant']} / "
        f"资料不足 {n['insufficient_data']} / 需复核 0"
    )
    shown = lines[at + 1 : at + 1 + n["non_compliant"]]
    assert all(ln.startswith("  ✗ 第") and ":不符合" in ln for ln in shown)
    assert any(
        "第14条 招聘不得设置年龄、性别等不合理就业限制:不符合 实际 是,标准 应为 否" in ln for ln in shown
    )


def test_all_lists_every_finding_and_status_adds_the_findings_of_one_status():
    rows = _json_findings(str(SAMPLES))
    _, everything, _ = run("evaluate", "--no-store", "--all", str(SAMPLES))
    assert sum(ln.startswith("  ") for ln in everything.splitlines()) == len(rows)
    _, with_missing, _ = run("evaluate", "--no-store", "--status", "资料不足", str(SAMPLES))
    need = [
        r
        for r in rows
        if r["status"] in ("non_compliant", "behind_schedule", "insufficient_data") or r["review"]
    ]
    assert sum(ln.startswith("  ") for ln in with_missing.splitlines()) == len(need)
    code, _, err = run("evaluate", "--no-store", "--status", "很好", str(SAMPLES))
    assert code == 2 and "未知的结论" in err


def test_yes_no_values_read_as_shi_and_fou_never_as_python_values():
    _, table, _ = run("evaluate", "--no-store", "--all", str(SAMPLES))
    _, text, _ = run("evaluate", "--no-store", "--format", "csv", str(SAMPLES))
    for out in (table, text):
        assert "True" not in out and "False" not in out and "== " not in out
    assert "标准 应为 是" in table
    rows = list(csv.DictReader(io.StringIO(text)))
    duty = next(r for r in rows if r["check"] == "heze-2024:m7.county_qingdao_pairing" and r["value"])
    assert duty["value"] in ("是", "否") and duty["threshold"] == "是"


def test_notices_are_summarised_at_the_end_listed_with_verbose_and_silenced_with_quiet():
    _, _, err = run("evaluate", "--no-store", str(SAMPLES))
    summary = [ln for ln in err.splitlines() if ln.startswith("提示 notice:")]
    assert len(summary) == 1 and re.match(r"提示 notice: \d+ 条记录基期数据,不单独评判", summary[0])
    n = int(re.search(r"(\d+) 条记录基期数据", summary[0]).group(1))
    _, _, verbose = run("evaluate", "--no-store", "--verbose", str(SAMPLES))
    assert sum(ln.startswith("提示 notice:") for ln in verbose.splitlines()) == n
    _, _, quiet = run("evaluate", "--no-store", "--quiet", str(SAMPLES))
    assert not any(ln.startswith("提示") for ln in quiet.splitlines())
    assert "读取 " in quiet.splitlines()[-1]  # the totals are still printed


def test_stderr_speaks_chinese_first():
    for args in (
        ["--no-store", str(SAMPLES)],
        ["--no-store", "no-such-file.csv"],
        ["--no-store"],
        ["--no-store", "--kind", "rocket", str(SAMPLES)],
    ):
        _, _, err = run("evaluate", *args)
        for line in err.splitlines():
            assert re.match(r"^[\u4e00-\u9fff]", line), line


def test_a_failed_evaluation_stores_no_run(tmp_path):
    db = tmp_path / "store.db"
    code, _, _ = run("evaluate", "--db", str(db), str(SAMPLES / "projects-2024.csv"))
    assert code == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("项目编号,项目名称\n", encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    for bad in (empty, garbage):
        code, _, err = run("evaluate", "--db", str(db), str(bad))
        assert code == 2
        assert "未保存评价批次" in err
    from engine.store import Store
    from engine.store.run_reads import list_runs

    with Store(str(db)) as store:
        assert [r.id for r in list_runs(store)] == [1]


def test_the_digest_writes_each_chunk_as_it_comes():
    from engine.cli.digest import Digest
    from engine.pipeline.stream import evaluate_files
    from engine.policy.policy import load_policy
    from engine.records.readers import record_files

    out = io.StringIO()
    digest = Digest(out=out)
    sizes = []
    for chunk in evaluate_files(record_files([str(SAMPLES)]), load_policy(), chunk_size=10):
        digest.write(chunk.records, chunk.findings)
        sizes.append(len(out.getvalue()))
    assert len(sizes) > 3 and sizes[0] > 0 and sizes == sorted(sizes)


def test_notices_do_not_break_up_the_progress_bar():
    _, _, err = run("evaluate", "--no-store", "--progress", str(SAMPLES))
    assert "审查 evaluating" in err  # the bar was shown
    notices = [ln for ln in err.splitlines() if "提示 notice:" in ln]
    assert (
        len(notices) == 1 and "基期数据" in notices[0]
    )  # one summary after the bar, not one line per record
    assert err.index("审查 evaluating") < err.index("提示 notice:")


def test_with_worker_processes_the_default_output_is_the_same_though_only_its_findings_come_back():
    one = run("evaluate", "--no-store", "--jobs", "1", "--chunk-size", "20", str(SAMPLES))
    two = run("evaluate", "--no-store", "--jobs", "2", "--chunk-size", "20", str(SAMPLES))
    assert one[0] == two[0] == 0
    assert one[1] == two[1] and one[1].count("\n") > 100
    with_status = run(
        "evaluate", "--no-store", "--jobs", "2", "--chunk-size", "20", "--status", "资料不足", str(SAMPLES)
    )
    assert (
        with_status[1]
        == run("evaluate", "--no-store", "--jobs", "1", "--status", "资料不足", str(SAMPLES))[1]
    )


def test_a_worker_sends_back_only_the_findings_shown_with_each_records_counts():
    from engine.pipeline.stream import evaluate_files
    from engine.pipeline.workers import _selected
    from engine.policy.policy import load_policy
    from engine.records.readers import record_files

    findings = [f for c in evaluate_files(record_files([str(SAMPLES)]), load_policy()) for f in c.findings]
    kept, counts = _selected(findings, frozenset({"non_compliant"}))
    assert kept == [f for f in findings if f.status == "non_compliant" or f.review]
    assert sum(n for c in counts.values() for s, n in c.items() if s != "review") == len(findings)
    assert sum(c.get("review", 0) for c in counts.values()) == sum(f.review for f in findings)
