"""Shared by the letter tests: a frozen pack, a few projects, and their evaluated findings."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from engine.evaluation.evaluate import Evaluator
from engine.evaluation.findings import Finding
from engine.policy.policy import Policy, load_policy
from engine.records.intake import load_records
from engine.records.model import Record
from engine.render.letters import LetterModel, build_letter, letter_number

GOLDEN = Path(__file__).resolve().parent / "golden"
PACK = GOLDEN / "pack"  # frozen measures 2 and 9: golden files do not move when rules/ grows
LETTER_DATE = dt.date(2026, 3, 5)

PROJECTS_CSV = """项目编号,项目名称,申报单位,所在县区,所在镇街,项目类别,总投资(万元),用地面积(亩),年税收(万元),是否位于省级特色小镇,申报日期
P-FAIL,巨野县新材料技术改造项目,巨野县华新材料股份有限公司,巨野县,麒麟镇,技改项目,480,35,60,否,2024-08-15
P-OK,郓城县高端装备制造产业园,郓城县智能装备有限公司,郓城县,张营街道,制造业重点项目,26000,180,900,否,2024-07-02
P-MISSING,东明县石化新材料配套仓储项目,东明县石化物流有限公司,东明县,马头镇,制造业重点项目,45000,,2100,是,2024-11-05
../../x,<script>alert(1)</script>{{ 7*7 }},A & B | *公司*,曹县,大集镇,技改项目,300,10,5,否,2024-09-01
项目/一期,单县测试项目,单县测试公司,单县,浮岗镇,技改项目,600,10,5,否,2024-09-01
"""


@lru_cache(maxsize=1)
def frozen_policy() -> Policy:
    return load_policy([PACK], with_builtin=False)


def write_projects(folder: Path) -> Path:
    p = folder / "projects.csv"
    p.write_text(PROJECTS_CSV, encoding="utf-8")
    return p


@lru_cache(maxsize=1)
def evaluated() -> tuple[dict[str, Record], dict[str, list[Finding]]]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        intake = load_records([write_projects(Path(d))], frozen_policy().catalog)
    assert not intake.errors, intake.errors
    result = Evaluator(frozen_policy()).evaluate(intake.records)
    records = {r.id: r for r in intake.records}
    findings: dict[str, list[Finding]] = {}
    for f in result.findings:
        findings.setdefault(f.record_id, []).append(f)
    return records, findings


def letter_for(record_id: str, seq: int = 1) -> LetterModel:
    records, findings = evaluated()
    rec = records[record_id]
    pol = frozen_policy()
    return build_letter(findings[record_id], record_id=rec.id, name=rec.name, values=rec.values,
                        number=letter_number("菏城审", LETTER_DATE.year, seq), date=LETTER_DATE,
                        plan_titles={p.pack.meta.number: p.pack.meta.title for p in pol.packs})
