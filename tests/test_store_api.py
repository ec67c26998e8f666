"""The store's write API: record versions, exact values, whole chunks, kept errors, letters."""

from __future__ import annotations

import csv
import multiprocessing as mp
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from engine.pipeline.stream import evaluate_files
from engine.policy.policy import load_policy
from engine.store import (
    Store,
    StoreError,
    begin_run,
    letters_for_record,
    next_letter_number,
    record_letter,
    resume_plan,
    resume_run,
    run_findings,
)
from engine.store.codec import decode_value, encode_value
from engine.store.finding_view import FINDING_VIEW
from engine.store.models import RecordVersion, RunMessage
from engine.store.testing import BACKENDS, store_url

HEADER = ["项目编号", "项目名称", "所在县区", "项目类别", "总投资(万元)", "用地面积(亩)", "申报日期"]
LOGIC_PACK = Path(__file__).resolve().parent / "packs" / "logic"


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def store_run(store: Store, policy, path: Path, kind: str | None = "project", chunk_size: int = 2000) -> int:
    writer = begin_run(store, policy, inputs=[str(path)], reviewer="测试", kind=kind, chunk_size=chunk_size)
    for chunk in evaluate_files([path], policy, kind=kind, chunk_size=chunk_size):
        writer.save_chunk(chunk)
    writer.finish()
    return writer.run_id


PROJECTS = [
    ["P-1", "一号项目", "曹县", "技改项目", 480, 35, "2024-08-15"],
    ["P-2", "二号项目", "单县", "服务业", 30000, 150, "2024-06-18"],
]


def test_identical_records_are_stored_once_and_a_changed_record_is_a_linked_new_version(
    db_url, tmp_path, policy
):
    data = write_csv(tmp_path / "p.csv", PROJECTS)
    with Store(db_url) as store:
        store_run(store, policy, data)
        store_run(store, policy, data)
        write_csv(data, [PROJECTS[0][:4] + [520] + PROJECTS[0][5:], PROJECTS[1]])
        run3 = store_run(store, policy, data)
        with store.session() as s:
            versions = s.execute(select(RecordVersion).order_by(RecordVersion.id)).scalars().all()
        found = {f.record_id: f.record_version for f in run_findings(store, run3)}
    assert [(v.record_id, v.version) for v in versions] == [("P-1", 1), ("P-2", 1), ("P-1", 2)]
    assert versions[2].previous_id == versions[0].id and versions[2].first_run_id == run3
    assert '"total_investment": "520"' in versions[2].values_json
    assert found == {"P-1": 2, "P-2": 1}


def test_yearly_reports_of_one_subject_are_separate_records_not_versions(db_url, tmp_path, policy):
    data = tmp_path / "towns.yaml"
    data.write_text(
        "records:\n"
        "  - {id: T-1, kind: town, name: 甲镇, report_year: 2024, 镇区常住人口: 30000}\n"
        "  - {id: T-1, kind: town, name: 甲镇, report_year: 2025, 镇区常住人口: 31000}\n",
        encoding="utf-8",
    )
    with Store(db_url) as store:
        store_run(store, policy, data, kind=None)
        with store.session() as s:
            rows = s.execute(
                select(RecordVersion.period, RecordVersion.version).order_by(RecordVersion.period)
            ).all()
    assert rows == [("2024", 1), ("2025", 1)]


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=None,
        min_value=Decimal("-1e30"),
        max_value=Decimal("1e30"),
    )
    | st.booleans()
    | st.none()
)
def test_judged_values_round_trip_through_their_text_form_exactly(v):
    back = decode_value(encode_value(v))
    assert back == v and type(back) is type(v)


def test_values_thresholds_and_targets_come_back_exactly_as_judged(db_url, tmp_path, policy):
    data = write_csv(
        tmp_path / "p.csv", [["P-3", "三号项目", "曹县", "服务业", "12345.6789", 7, "2024-08-15"]]
    )
    chunks = list(evaluate_files([data], policy, kind="project"))
    judged = {f.check: (f.value, f.threshold, f.target) for c in chunks for f in c.findings}
    with Store(db_url) as store:
        writer = begin_run(store, policy, inputs=[str(data)], kind="project", chunk_size=2000)
        for c in chunks:
            writer.save_chunk(c)
        writer.finish()
        stored = {f.check_id: (f.value, f.threshold, f.target) for f in run_findings(store, writer.run_id)}
    assert stored == judged
    per_mu = next(v for k, (v, _, _) in judged.items() if k.endswith("invest_per_mu"))
    assert isinstance(per_mu, Decimal) and per_mu != round(
        per_mu, 6
    )  # a long quotient, kept to the last digit


def test_a_chunk_is_stored_once_a_second_save_is_refused_and_adds_nothing(db_url, tmp_path, policy):
    data = write_csv(tmp_path / "p.csv", PROJECTS)
    chunk = next(iter(evaluate_files([data], policy, kind="project")))
    with Store(db_url) as store:
        writer = begin_run(store, policy, inputs=[str(data)], kind="project", chunk_size=2000)
        writer.save_chunk(chunk)
        with pytest.raises(StoreError, match="chunk 0"):
            writer.save_chunk(chunk)
        with store.session() as s:
            n = s.execute(select(func.count()).select_from(FINDING_VIEW)).scalar_one()
    assert n == len(chunk.findings)


def test_rejected_rows_and_unusable_files_are_kept_with_the_run(db_url, tmp_path, policy):
    data = write_csv(
        tmp_path / "p.csv", [PROJECTS[0], ["P-9", "坏项目", "曹县", "技改项目", "很多", 10, "2024-08-15"]]
    )
    missing = tmp_path / "nope.csv"
    with Store(db_url) as store:
        writer = begin_run(store, policy, inputs=[str(data), str(missing)], kind="project", chunk_size=2000)
        for c in evaluate_files([data, missing], policy, kind="project"):
            writer.save_chunk(c)
        summary = writer.finish()
        with store.session() as s:
            msgs = s.execute(select(RunMessage).order_by(RunMessage.id)).scalars().all()
    # P-9 is kept without its unreadable investment (a bad cell costs its field); the error is kept too
    assert summary.n_records == 2 and summary.n_rejected == 1 and summary.n_file_problems == 1
    rejected = next(m for m in msgs if m.category == "rejected")
    assert (rejected.record_id, rejected.row, rejected.file) == ("P-9", 3, str(data))
    assert "total_investment" in (rejected.field or "")
    assert any(m.category == "file_problem" and m.file == str(missing) for m in msgs)


def test_a_run_cannot_be_resumed_with_different_rule_packs(tmp_path, policy):
    data = write_csv(tmp_path / "p.csv", PROJECTS)
    with Store(str(tmp_path / "s.db")) as store:
        begin_run(store, policy, inputs=[str(data)], kind="project", chunk_size=2000)
        plan = resume_plan(store, 1)
        with pytest.raises(StoreError, match="rule packs changed"):
            resume_run(store, plan, load_policy([LOGIC_PACK]))
        assert resume_run(store, plan, policy).committed == frozenset()


# --- letters -----------------------------------------------------------------------------------------


def test_letter_numbers_run_per_prefix_and_year_in_the_official_style(db_url):
    with Store(db_url) as store:
        got = [
            next_letter_number(store, "菏城审", 2026),
            next_letter_number(store, "菏城审", 2026),
            next_letter_number(store, "菏城审", 2027),
            next_letter_number(store, "曹城审", 2026),
            next_letter_number(store, "菏城审", 2026),
        ]
    assert got == [
        "菏城审〔2026〕第001号",
        "菏城审〔2026〕第002号",
        "菏城审〔2027〕第001号",
        "曹城审〔2026〕第001号",
        "菏城审〔2026〕第003号",
    ]


def _take_numbers(url: str, n: int) -> list[str]:
    with Store(url, create=False) as store:
        return [next_letter_number(store, "菏城审", 2026) for _ in range(n)]


def test_letter_numbers_taken_by_concurrent_processes_are_all_different(db_url):
    Store(db_url).close()
    with mp.get_context("fork").Pool(4) as pool:
        batches = pool.starmap(_take_numbers, [(db_url, 15)] * 4)
    numbers = [n for b in batches for n in b]
    assert sorted(numbers) == [f"菏城审〔2026〕第{i:03d}号" for i in range(1, 61)]


def test_an_issued_letter_is_recorded_against_the_record_version_its_run_judged(db_url, tmp_path, policy):
    data = write_csv(tmp_path / "p.csv", PROJECTS)
    with Store(db_url) as store:
        run = store_run(store, policy, data)
        number = next_letter_number(store, "菏城审", 2026)
        html = record_letter(
            store,
            number=number,
            run_id=run,
            record_id="P-1",
            format="html",
            sha256="a" * 64,
            pack_fingerprint="f" * 64,
            path="out/letter.html",
        )
        record_letter(
            store,
            number=number,
            run_id=run,
            record_id="P-1",
            format="pdf",
            sha256="b" * 64,
            pack_fingerprint="f" * 64,
        )
        with pytest.raises(StoreError, match="already recorded"):
            record_letter(
                store,
                number=number,
                run_id=run,
                record_id="P-1",
                format="html",
                sha256="c" * 64,
                pack_fingerprint="f" * 64,
            )
        with pytest.raises(StoreError, match="not judged"):
            record_letter(
                store,
                number=number,
                run_id=run,
                record_id="P-404",
                format="md",
                sha256="d" * 64,
                pack_fingerprint="f" * 64,
            )
        letters = letters_for_record(store, "P-1")
    assert html.kind == "project" and html.record_id == "P-1" and html.run_id == run
    assert [(le.number, le.format) for le in letters] == [(number, "html"), (number, "pdf")]


def test_diff_names_findings_added_and_removed_between_runs(db_url, tmp_path, policy):
    from engine.store import diff_runs

    data = write_csv(tmp_path / "p.csv", PROJECTS)
    with Store(db_url) as store:
        a = store_run(store, policy, data)
        write_csv(data, [PROJECTS[0], ["P-3", "三号项目", "曹县", "服务业", 900, 10, "2024-08-15"]])
        b = store_run(store, policy, data)
        changes = diff_runs(store, a, b)
        n_checks = {r.record_id: 0 for r in run_findings(store, a)}
        for r in run_findings(store, a):
            n_checks[r.record_id] += 1
    assert {(c.change, c.record_id) for c in changes} == {("removed", "P-2"), ("added", "P-3")}
    assert sum(c.change == "removed" for c in changes) == n_checks["P-2"]
    assert all(c.before is None and c.after is not None for c in changes if c.change == "added")
