"""Amendments in time: dated thresholds, amended applicability, superseded checks, --as-of, --history."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.evaluation.evaluate import Evaluator
from engine.policy.policy import load_policy
from tests.conftest import project

COMPLIANCE = str(Path(sys.executable).with_name("compliance"))

PACK = """\
id: {id}
title: 测试政策{id}
number: 测试〔2024〕{n}号
issuer: 测试市人民政府
issued_on: {start}
period: {{from: {start}, to: 2025-12-31}}
"""


def write_pack(root: Path, pack_id: str, n: int, start: str, measure: str) -> Path:
    d = root / pack_id
    d.mkdir()
    (d / "pack.yaml").write_text(PACK.format(id=pack_id, n=n, start=start), encoding="utf-8")
    (d / "m01.yaml").write_text(textwrap.dedent(measure), encoding="utf-8")
    return d


RAISED = """\
measure: 1
title: 亩均投资
section: 一、测试
lead_departments: [市发展改革委]
source: 工业项目总投资不低于500万元;自2025年1月1日起不低于800万元。
checks:
  - id: m1.invest
    title: 工业项目总投资
    subject: project
    nature: standard
    source: 工业项目总投资不低于500万元
    applies_when: category == "制造业重点项目"
    quantity: total_investment
    unit: 万元
    threshold:
      unit: 万元
      values:
        - {from: 2024-01-01, value: 500, reference: 测试〔2024〕1号 第1条}
        - {from: 2025-01-01, value: 800, reference: 测试〔2024〕1号 修订}
    amendments:
      - from: 2025-07-01
        applies_when: category in ["制造业重点项目", "技改项目"]
        reference: 测试〔2025〕2号
        note: 技改项目一并适用
"""


def test_raised_threshold_judges_old_before_and_new_after_with_version(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, "amend", 1, "2024-01-01", RAISED)
    records = tmp_path / "p.csv"
    records.write_text(
        "项目编号,项目类别,总投资(万元),申报日期\nP1,制造业重点项目,600,2024-06-01\n", encoding="utf-8"
    )

    def verdict(as_of: str) -> dict:
        # A real process: the json writer binds sys.stdout at import, which CliRunner cannot capture.
        res = subprocess.run(
            [
                COMPLIANCE,
                "evaluate",
                "--rules",
                str(pack),
                "--kind",
                "project",
                "--rules-date",
                as_of,
                "--format",
                "json",
                "--no-store",
                str(records),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stderr
        rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
        mine = [r for r in rows if r["check"] == "amend:m1.invest"]
        assert len(mine) == 1
        return mine[0]

    before, after = verdict("2024-12-31"), verdict("2025-01-01")
    assert before["status"] == "compliant" and before["threshold"] == 500
    assert before["check_version"].startswith("v1 (2024-01-01–2024-12-31)")
    assert after["status"] == "non_compliant" and after["threshold"] == 800
    assert after["check_version"].startswith("v2 (2025-01-01–2025-06-30)")
    assert "测试〔2024〕1号 修订" in after["check_version"]


def test_amended_applicability_takes_effect_on_its_date(tmp_path: Path) -> None:
    policy = load_policy([write_pack(tmp_path, "amend", 1, "2024-01-01", RAISED)])
    rec = project(policy, "T1", category="技改项目", total_investment=900)
    ev = Evaluator(policy)

    def status(d: dt.date) -> tuple[str, str]:
        [f] = [f for f in ev.evaluate([rec], rules_date=d).findings if f.check == "amend:m1.invest"]
        return f.status, f.check_version

    assert status(dt.date(2025, 6, 30))[0] == "not_applicable"
    st, version = status(dt.date(2025, 7, 1))
    assert st == "compliant" and version.startswith("v3 (2025-07-01–2025-12-31)") and "修订1" in version


def test_rules_show_history_lists_every_version(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, "amend", 1, "2024-01-01", RAISED)
    res = CliRunner().invoke(main, ["rules", "show", "amend:m1.invest", "--history", "--rules", str(pack)])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip().startswith("v")]
    assert [ln.split()[0] for ln in lines] == ["v1", "v2", "v3"]
    assert "2024-01-01" in lines[0] and "500" in lines[0]
    assert "800" in lines[1] and "测试〔2024〕1号 修订" in lines[1]
    assert "2025-07-01" in lines[2] and "技改项目" in lines[2]


OLD = """\
measure: 1
title: 总投资
section: 一、测试
lead_departments: [市发展改革委]
source: 项目总投资不低于500万元。
checks:
  - id: m1.invest
    title: 项目总投资(旧)
    subject: project
    nature: standard
    source: 项目总投资不低于500万元
    quantity: total_investment
    unit: 万元
    threshold: {unit: 万元, values: [{from: 2024-01-01, value: 500}]}
    superseded_by: newer:m1.invest
"""

NEW = """\
measure: 1
title: 总投资
section: 一、测试
lead_departments: [市发展改革委]
source: 项目总投资不低于800万元。
checks:
  - id: m1.invest
    title: 项目总投资(新)
    subject: project
    nature: standard
    source: 项目总投资不低于800万元
    quantity: total_investment
    unit: 万元
    threshold: {unit: 万元, values: [{from: 2025-03-01, value: 800}]}
"""


def test_superseded_check_is_not_judged_once_its_successor_is_in_force(tmp_path: Path) -> None:
    old = write_pack(tmp_path, "older", 1, "2024-01-01", OLD)
    new = write_pack(tmp_path, "newer", 2, "2025-03-01", NEW)
    policy = load_policy([old, new])
    rec = project(policy, "P1", total_investment=600)
    ev = Evaluator(policy)

    def judged(d: dt.date) -> dict[str, tuple[str, str]]:
        return {
            f.check: (f.status, f.check_version)
            for f in ev.evaluate([rec], rules_date=d).findings
            if f.pack in ("older", "newer")
        }

    assert {k: v[0] for k, v in judged(dt.date(2025, 2, 28)).items()} == {"older:m1.invest": "compliant"}
    after = judged(dt.date(2025, 3, 1))
    assert list(after) == ["newer:m1.invest"]
    assert after["newer:m1.invest"][0] == "non_compliant"
    assert "取代older:m1.invest" in after["newer:m1.invest"][1]
    # Without the new pack loaded, the old check stays in force.
    alone = Evaluator(load_policy([old])).evaluate([rec], rules_date=dt.date(2025, 3, 1)).findings
    assert [f.status for f in alone if f.check == "older:m1.invest"] == ["compliant"]
