"""Every file of the hostile-input corpus gets its expected outcome (tests/corpus/manifest.yaml).

Each case lists exactly which records come through, which rows are rejected (row, field, message),
which warnings and whole-file errors appear. The valid records of every file are then evaluated:
each gets findings (or a notice explaining why not), durable-rules agrees with the plain-Python
reference, and hostile text (HTML, Jinja, shell, paths) travels as data.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.evaluation.evaluate import Evaluator
from engine.policy.policy import Policy
from engine.records.intake import Intake, load_records, rows_rejected

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = CORPUS / "files"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["cases"]
SENTINEL = Path("/tmp/heze-corpus-sentinel")


def _intake(case: dict[str, Any], policy: Policy) -> Intake:
    return load_records([FILES / f for f in case["files"]], policy.catalog)


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v.normalize()) if v != v.to_integral_value() else str(v.quantize(Decimal(1)))
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@pytest.fixture(scope="module")
def intakes(policy: Policy) -> dict[str, Intake]:
    return {c["id"]: _intake(c, policy) for c in MANIFEST}


def test_every_corpus_file_has_an_expected_outcome() -> None:
    listed = {f for c in MANIFEST for f in c["files"]}
    on_disk = {str(p.relative_to(FILES)) for p in FILES.rglob("*") if p.is_file()}
    assert on_disk == listed


@pytest.mark.parametrize("case", MANIFEST, ids=[c["id"] for c in MANIFEST])
def test_corpus_file_outcome(case: dict[str, Any], intakes: dict[str, Intake]) -> None:
    got = intakes[case["id"]]
    assert [r.id for r in got.records] == case["valid"], [str(e) for e in got.errors] + got.warnings

    expected_errors = case.get("errors", [])
    unmatched = list(got.errors)
    for exp in expected_errors:
        hits = [
            e
            for e in unmatched
            if e.source.row == exp["row"]
            and e.field == exp["field"]
            and exp["contains"] in e.message
            and ("file" not in exp or e.source.file.endswith(exp["file"]))
            and ("sheet" not in exp or e.source.sheet == exp["sheet"])
            and e.row_rejected is not exp.get("kept", False)
        ]
        assert len(hits) == 1, f"expected error {exp} not found in {[str(e) for e in unmatched]}"
        unmatched.remove(hits[0])
    assert not unmatched, f"unexpected errors: {[str(e) for e in unmatched]}"
    for e in got.errors:  # every error names its file
        assert any(e.source.file.endswith(f) for f in case["files"])

    problems = [str(p) for p in got.file_problems]
    assert len(problems) == len(case.get("file_problems", [])), problems
    for frag, text in zip(case.get("file_problems", []), problems, strict=True):
        assert frag in text and case["files"][0] in text

    for w in case.get("warnings", []):
        n = sum(w["contains"] in text for text in got.warnings)
        assert (n == 1) if w.get("once") else (n >= 1), (w, got.warnings)

    by_id = {r.id: r for r in got.records}
    for rid, fields in (case.get("values") or {}).items():
        for fname, want in fields.items():
            got_value = by_id[rid].values.get(fname)
            assert _plain(got_value) == want, (rid, fname, by_id[rid].values)
            if isinstance(want, int) and not isinstance(want, bool):
                assert type(got_value) is int  # a count is an integer, not a decimal
    for rid, name in (case.get("names") or {}).items():
        assert by_id[rid].name == name
    invalid = {r.id: sorted(r.invalid) for r in got.records if r.invalid}
    assert invalid == {rid: sorted(fields) for rid, fields in (case.get("invalid") or {}).items()}
    for r in got.records:
        assert not set(r.invalid) & set(r.values), r  # an invalid field is left out, never half-kept
    for rid, row in (case.get("rows") or {}).items():
        assert by_id[rid].source.row == row
    for rid, kind in (case.get("kinds") or {}).items():
        assert by_id[rid].kind == kind


@pytest.mark.parametrize("case", MANIFEST, ids=[c["id"] for c in MANIFEST])
def test_every_row_is_evaluated_rejected_or_counted_blank(
    case: dict[str, Any], intakes: dict[str, Intake]
) -> None:
    got = intakes[case["id"]]
    assert sorted(t.file for t in got.tallies) == sorted(str(FILES / f) for f in case["files"])
    read = sum(t.rows_read for t in got.tallies)
    blank = sum(t.blank_rows for t in got.tallies)
    assert read == len(got.records) + rows_rejected(got.errors) + blank, (read, [str(e) for e in got.errors])
    assert case.get("rows_read", read) == read


def _summary_numbers(stderr: str) -> tuple[int, int, int, int] | None:
    m = re.search(r"读取 (\d+) 行 = 评价 (\d+) \+ 拒收 (\d+) \+ 空行 (\d+)", stderr)
    return tuple(int(g) for g in m.groups()) if m else None  # type: ignore[return-value]


@pytest.mark.parametrize("case", MANIFEST, ids=[c["id"] for c in MANIFEST])
def test_the_command_exits_as_expected_without_a_traceback(
    case: dict[str, Any], intakes: dict[str, Intake]
) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    result = CliRunner().invoke(
        main, ["evaluate", "--no-store", "--format", "summary", *(str(FILES / f) for f in case["files"])]
    )
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exit_code == case["exit"], result.stderr[-2000:]
    numbers = _summary_numbers(result.stderr)
    assert numbers is not None, result.stderr[-500:]
    read, evaluated, rejected, blank = numbers
    assert read == evaluated + rejected + blank
    got = intakes[case["id"]]
    assert evaluated == len(got.records) and rejected == rows_rejected(got.errors)
    if case["exit"] == 2 and got.records:
        assert "无法作出任何审查结论" in result.stderr  # valid records, but nothing could be judged


@pytest.mark.parametrize(
    "case", [c for c in MANIFEST if c["valid"]], ids=[c["id"] for c in MANIFEST if c["valid"]]
)
def test_valid_records_of_a_broken_file_are_still_evaluated(
    case: dict[str, Any], intakes: dict[str, Intake], policy: Policy
) -> None:
    records = intakes[case["id"]].records
    durable = Evaluator(policy, "durable").evaluate(records)
    python = Evaluator(policy, "python").evaluate(records)
    judged = {f.record_id for f in durable.findings} | {n.record_id for n in durable.notices}
    assert judged == {r.id for r in records}
    dated = [r for r in records if r.id not in {n.record_id for n in durable.notices}]
    if case.get("nothing_judged"):  # no date, or dated outside every pack: a notice per record, no finding
        assert not dated and not durable.findings
    else:
        assert dated, "every case with valid records should have at least one record judged"
    key = lambda f: (f.record_id, f.check, f.status, f.message)  # noqa: E731
    assert sorted(map(key, durable.findings)) == sorted(map(key, python.findings))


def test_hostile_names_travel_as_data(intakes: dict[str, Intake], policy: Policy) -> None:
    records = intakes["hostile-names"].records
    result = Evaluator(policy, "durable").evaluate(records)
    names = {f.record_id: f.record_name for f in result.findings}
    assert names["HN-2"] == "{{ 7*7 }}{% for x in range(9) %}x{% endfor %}{{ config }}"
    assert names["../HN-7"] == "{title}{value}{0}{__class__}"
    assert not any("49" in f.message for f in result.findings if f.record_id == "HN-2")
    assert not Path("/tmp/heze-pwned").exists()


def test_yaml_escape_attempt_in_a_record_file_executes_nothing(policy: Policy) -> None:
    if SENTINEL.exists():
        os.remove(SENTINEL)
    got = load_records([FILES / "yaml" / "python-tag.yaml"], policy.catalog)
    assert [r.id for r in got.records] == ["PY-1", "PY-2"] and got.records[
        0
    ].name is None  # the tagged value is refused
    assert "!!python/object/apply:os.system" in got.records[0].invalid["name"]
    assert not SENTINEL.exists()


def test_cross_file_duplicate_names_the_first_occurrence(intakes: dict[str, Intake]) -> None:
    errors = [
        e for e in intakes["duplicate-ids"].errors if e.source.file.endswith("duplicates-b-projects.csv")
    ]
    assert (
        len(errors) == 1
        and "first at" in errors[0].message
        and "duplicates-a-projects.csv row 2" in errors[0].message
    )


def test_valid_records_of_every_corpus_file_are_stored_with_their_findings(
    policy: Policy, tmp_path: Path
) -> None:
    """One run over the whole corpus: broken files and rows are reported, the valid records' findings are kept."""
    from engine.pipeline.stream import evaluate_files
    from engine.store import Store, begin_run, run_findings

    paths = [
        str(FILES / f) for c in MANIFEST for f in c["files"] if c["id"] != "duplicate-ids"
    ]  # the duplicates case is a pair; its ids repeat other cases' ids
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        writer = begin_run(store, policy, inputs=paths, chunk_size=50)
        expected: set[tuple[str, str]] = set()
        for chunk in evaluate_files(paths, policy, chunk_size=50):
            writer.save_chunk(chunk)
            expected |= {(f.kind, f.record_id) for f in chunk.findings}
            assert {(r.kind, r.id) for r in chunk.records} >= {(f.kind, f.record_id) for f in chunk.findings}
        summary = writer.finish()
        stored = list(run_findings(store, summary.id))
    finally:
        store.close()
    assert {(f.kind, f.record_id) for f in stored} == expected
    names = {f.record_id: f.record_name for f in stored}
    assert names["HN-2"] == "{{ 7*7 }}{% for x in range(9) %}x{% endfor %}{{ config }}"
    assert names["../HN-7"] == "{title}{value}{0}{__class__}"
    # every case with valid records contributed stored findings (ids repeat across the encoding cases)
    stored_ids = {f.record_id for f in stored}
    for case in MANIFEST:
        if case["valid"] and case["id"] != "duplicate-ids" and not case.get("nothing_judged"):
            assert stored_ids & set(case["valid"]), case["id"]
