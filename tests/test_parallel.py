"""--jobs N evaluates chunks in worker processes: same findings, notices and order as one process."""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from engine.evaluation.evaluate import Evaluator, History
from engine.evaluation.findings import Finding
from engine.pipeline.stream import ChunkResult, evaluate_files
from engine.pipeline.transport import decode_findings, encode_findings
from engine.pipeline.workers import WorkerPool
from engine.policy.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen import write_other_jsonl, write_projects_csv  # noqa: E402


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("parallel")
    return [
        str(write_projects_csv(d / "projects.csv", 19_000, seed=3)),
        str(write_other_jsonl(d / "others.jsonl", 1_000, seed=5)),
    ]


def _run(paths: list[str], policy: Policy, jobs: int, **kw: object) -> list[ChunkResult]:
    return list(evaluate_files(paths, policy, chunk_size=700, jobs=jobs, **kw))  # type: ignore[arg-type]


def test_jobs_2_gives_the_findings_of_jobs_1_on_20000_generated_records(
    policy: Policy, inputs: list[str]
) -> None:
    one = _run(inputs, policy, 1)
    two = _run(inputs, policy, 2)
    assert sum(len(c.records) for c in one) == 20_000
    assert [c.index for c in two] == [c.index for c in one] == list(range(len(one)))
    for a, b in zip(one, two, strict=True):
        assert [r.id for r in b.records] == [r.id for r in a.records]
        assert b.findings == a.findings  # same findings, same order, every field
        assert b.notices == a.notices
        assert b.errors == a.errors
    findings = [f for c in two for f in c.findings]
    assert len({f.status for f in findings}) >= 4  # the records reach every common outcome
    assert len(findings) > 20_000


def test_skipped_chunks_pass_through_the_workers_unevaluated(policy: Policy, inputs: list[str]) -> None:
    two = _run(inputs[1:], policy, 2, skip_chunks=frozenset({0}))
    assert two[0].skipped and not two[0].findings
    assert not two[1].skipped and two[1].findings
    assert two[1].findings == _run(inputs[1:], policy, 1)[1].findings


def _ids_and_statuses(
    ev: Evaluator, history: History | None, records: list
) -> tuple[int, list[tuple[str, str]]]:
    """Runs in a worker: what the benchmark sends back instead of findings, and the worker's pid."""
    return os.getpid(), [(f.record_id, f.status) for f in ev.evaluate(records, history=history).findings]


def test_map_in_workers_runs_in_the_workers_and_returns_results_in_order(
    policy: Policy, inputs: list[str]
) -> None:
    chunks = [c.records for c in _run(inputs[:1], policy, 1)][:8]
    history = History()
    history.add_all([r for c in chunks for r in c])
    with WorkerPool(policy, history, "durable", 2) as pool:
        got = list(pool.map_in_workers(_ids_and_statuses, chunks))
    assert all(pid != os.getpid() for pid, _ in got)
    here = Evaluator(policy)
    assert [pairs for _, pairs in got] == [_ids_and_statuses(here, history, c)[1] for c in chunks]


def test_finding_codec_round_trips_every_field() -> None:
    base = dict(
        record_id="P1",
        kind="project",
        pack="p",
        document="d",
        measure=2,
        measure_title="t",
        section="s",
        check="p:c",
        check_title="t",
        check_version="v1",
        nature="duty",
        op="==",
        message="m",
        source_text="s",
        lead_departments=["市发展改革委"],
        as_of=dt.date(2024, 9, 1),
    )
    findings = [
        Finding(**base, status="compliant", value=True, threshold=True),
        Finding(
            **base,
            status="non_compliant",
            value=Decimal("199.999999"),
            threshold=Decimal("200"),
            due=dt.date(2025, 12, 31),
            target=Decimal("1E+3"),
            missing_fields=["总投资"],
        ),
        Finding(**base, status="insufficient_data"),
    ]
    back = decode_findings(encode_findings(findings))
    assert back == findings
    assert [type(f.value) for f in back] == [bool, Decimal, type(None)]
    assert back[1].model_dump() == findings[1].model_dump()


def test_a_chunk_sent_to_a_worker_arrives_with_the_same_records_errors_and_warnings(policy: Policy) -> None:
    import pickle

    from engine.pipeline.stream import read_chunks
    from engine.pipeline.transport import receive_chunk, send_chunk

    # samples/ hold every kind, unit conversions, rejected rows and warnings
    for chunk in read_chunks([str(ROOT / "samples")], policy, chunk_size=7):
        back = receive_chunk(pickle.loads(pickle.dumps(send_chunk(chunk))))
        assert (back.index, back.errors, back.file_problems, back.warnings) == (
            chunk.index,
            chunk.errors,
            chunk.file_problems,
            chunk.warnings,
        )
        assert back.records == chunk.records
        for a, b in zip(chunk.records, back.records, strict=True):
            assert a.model_dump() == b.model_dump() and a.content_hash() == b.content_hash()
            assert (a.model_fields_set, a.source.model_fields_set) == (
                b.model_fields_set,
                b.source.model_fields_set,
            )
