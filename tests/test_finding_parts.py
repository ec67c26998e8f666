"""The compact findings of evaluate(parts=True), expanded into FindingParts (what workers store), hold
exactly the findings Finding objects hold."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from engine.evaluation.evaluate import Evaluator, compact_status_counts, finding_parts
from engine.pipeline.stream import collect_history, read_chunks
from engine.policy.policy import Policy
from engine.policy.terms import VERSION_FIELDS
from engine.store.codec import STATIC_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen import write_other_jsonl, write_projects_csv  # noqa: E402

OWN = ("status", "value", "threshold", "target", "as_of", "message", "missing_fields")


def test_the_version_key_is_the_check_versions_row_of_the_store() -> None:
    assert VERSION_FIELDS == ("check",) + STATIC_COLUMNS


def test_parts_equal_the_findings_field_for_field(policy: Policy, tmp_path: Path) -> None:
    paths = [
        str(ROOT / "samples"),
        str(write_projects_csv(tmp_path / "p.csv", 1500, seed=11)),
        str(write_other_jsonl(tmp_path / "o.jsonl", 400, seed=12)),
    ]
    history = collect_history(paths, policy)
    for engine in ("durable", "python"):
        ev = Evaluator(policy, engine)  # type: ignore[arg-type]
        n = 0
        for chunk in read_chunks(paths, policy, chunk_size=300):
            full = ev.evaluate(chunk.records, history=history)
            lean = ev.evaluate(chunk.records, history=history, parts=True)
            assert lean.findings == [] and lean.notices == full.notices
            assert lean.parts is not None and len(lean.parts) == len(full.findings)
            assert compact_status_counts(lean.parts) == dict(Counter(f.status for f in full.findings))
            for f, (record, key, *own, review, extras) in zip(
                full.findings, finding_parts(lean.parts), strict=True
            ):
                d = f.__dict__
                assert (record.kind, record.id, record.name, record.source) == (
                    f.kind,
                    f.record_id,
                    f.record_name,
                    f.source,
                )
                assert key == tuple(d[k] for k in VERSION_FIELDS)
                assert [(type(v), v) for v in own] == [(type(d[k]), d[k]) for k in OWN]
                assert review == d["review"] and all(d[k] == v for k, v in extras.items())
            n += len(full.findings)
        assert n > 15_000
