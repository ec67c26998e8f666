"""The Heze pack is complete: all 27 measures plus the general requirement, indexed, exercised by samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.evaluation.examples import run_examples
from engine.pipeline.stream import evaluate_files

ROOT = Path(__file__).resolve().parents[1]


def test_rules_list_has_measures_0_to_27_each_with_text_departments_and_checks():
    result = CliRunner().invoke(main, ["rules", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    measures = {m["measure"]: m for m in json.loads(result.stdout) if m["pack"] == "heze-2024"}
    assert sorted(measures) == list(range(0, 28))
    for m in measures.values():
        assert m["section"] and m["source"] and m["lead_departments"] and m["checks"], m["measure"]


def test_every_check_has_a_compliant_and_a_non_compliant_example(policy):
    report = run_examples(policy)
    assert not report.failures, [
        (r.check.full_id, r.name, r.expected, r.actual, r.message) for r in report.failures
    ]
    # An inclusion rule is never non_compliant: a record below it is not_applicable (不计入).
    inclusion = {c.full_id for c in policy.checks() if c.check.role == "inclusion"}
    lacking = {
        cid: s
        for cid, s in report.coverage().items()
        if not ({"compliant", "not_applicable"} if cid in inclusion else {"compliant", "non_compliant"}) <= s
    }
    assert not lacking


def test_every_quantitative_phrase_of_the_text_has_a_check_or_a_reason():
    result = CliRunner().invoke(main, ["rules", "index"])
    assert result.exit_code == 0, result.stderr
    assert ", 0 missing" in result.stderr


def test_generated_index_file_is_up_to_date():
    result = CliRunner().invoke(main, ["rules", "index", "--markdown"])
    committed = (ROOT / "rules" / "heze-2024" / "INDEX.md").read_text(encoding="utf-8")
    assert result.stdout == committed, "run: compliance rules index --markdown > rules/heze-2024/INDEX.md"


def test_samples_touch_every_check_and_show_every_status(policy):
    touched: set[str] = set()
    statuses: Counter = Counter()
    errors = []
    for chunk in evaluate_files(
        sorted(
            str(p) for p in (ROOT / "samples").rglob("*") if p.suffix in (".csv", ".xlsx", ".yaml", ".json")
        ),
        policy,
    ):
        errors += chunk.errors + chunk.file_problems
        for f in chunk.findings:
            statuses[f.status] += 1
            if f.status != "not_applicable":
                touched.add(f.check)
    assert not errors, [str(e) for e in errors]
    untouched = sorted(c.full_id for c in policy.checks() if c.pack_id == "heze-2024")
    untouched = [c for c in untouched if c not in touched]
    assert not untouched, untouched
    for s in (
        "compliant",
        "non_compliant",
        "not_applicable",
        "insufficient_data",
        "on_track",
        "behind_schedule",
    ):
        assert statuses[s] > 0, statuses
