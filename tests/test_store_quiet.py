"""Plain not-applicable findings summarised on their record read back exactly as if stored as rows.

Two stores get the same two runs of ``samples/``: one with the summaries (the default), one with a row
per finding as before. Every reader of findings (a run's findings, a record's history, a diff, the
run's counts, the workbench's counts, pages and exports) must give the same answer from both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.store import Store, diff_runs, record_history, run_detail, run_findings
from engine.store.finding_view import FINDING_VIEW, quiet_length, split_ids
from engine.store.models import RunRecord, StoredFinding
from engine.store.run_writer import RunWriter
from engine.store.testing import BACKENDS, store_url
from engine.web.queries import Filters, count_findings, findings_all, findings_page

ROOT = Path(__file__).resolve().parents[1]


def _two_runs(url: str, summarise: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RunWriter, "summarise_quiet", summarise)
    # run 1: part of the samples; run 2: all of them (so the diff has records only run 2 judged)
    for inputs in (["projects-2024.csv", "towns.yaml"], ["."]):
        got = CliRunner().invoke(
            main,
            ["evaluate", *(str(ROOT / "samples" / i) for i in inputs), "--db", url, "--jobs", "1"]
            + ["--format", "summary", "--quiet"],
        )
        assert got.exit_code in (0, 1), got.output


@pytest.fixture(params=BACKENDS)
def stores(request, tmp_path, monkeypatch):
    urls = []
    for name, summarise in (("quiet", True), ("rows", False)):
        folder = tmp_path / name
        folder.mkdir()
        gen = store_url(request.param, folder)
        url = next(gen)
        _two_runs(url, summarise, monkeypatch)
        urls.append((url, gen))
    yield urls[0][0], urls[1][0]
    for _, gen in urls:
        gen.close()


def _timeless(value):
    """A reader's answer without the moments the two stores' runs happened to start and end."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {
            k: _timeless(v) for k, v in value.items() if k not in ("started_at", "finished_at", "created_at")
        }
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _count(url: str, table) -> int:
    with Store(url, create=False) as store, store.session() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def test_summarised_findings_are_most_of_them_and_are_no_longer_rows(stores):
    quiet, rows = stores
    assert _count(quiet, FINDING_VIEW) == _count(rows, FINDING_VIEW) == _count(rows, StoredFinding)
    with Store(quiet, create=False) as store, store.session() as s:
        rr = RunRecord.__table__
        length = quiet_length(s.connection().dialect.name, rr.c.quiet)
        summarised = s.execute(select(func.sum(length)).select_from(rr)).scalar()
    # every summarised finding is a row fewer, and they are a good part of the samples' findings
    assert _count(quiet, StoredFinding) + summarised == _count(rows, StoredFinding)
    assert summarised > 0.25 * _count(rows, StoredFinding)


def test_every_reader_gives_the_same_findings_from_summaries_as_from_rows(stores):
    quiet, rows = stores
    with Store(quiet, create=False) as a, Store(rows, create=False) as b:
        found = list(run_findings(a, 2))
        assert found == list(run_findings(b, 2))
        one_of_each_kind = {r.kind: r.record_id for r in found if r.status == "not_applicable"}
        assert len(one_of_each_kind) >= 4
        for record_id in one_of_each_kind.values():
            assert _timeless(record_history(a, record_id)) == _timeless(record_history(b, record_id))
        changes = diff_runs(a, 1, 2)
        assert changes == diff_runs(b, 1, 2)
        assert any(c.after is not None and c.after.status == "not_applicable" for c in changes)
        da, db = run_detail(a, 2), run_detail(b, 2)
        assert da.summary.counts == db.summary.counts
        assert da.summary.n_findings == db.summary.n_findings
        assert da.summary.counts["not_applicable"] > 100


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(status="not_applicable"),
        Filters(status="non_compliant"),
        Filters(review=False),
        Filters(measure=9),
        Filters(kind="project"),
        Filters(county="曹县"),
        Filters(status="not_applicable", measure=17),
        Filters(review=False, kind="department", measure=25),
        Filters(status="not_applicable", county="曹县", kind="project"),
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.params().items()) or "all",
)
def test_the_workbench_counts_and_pages_the_same_from_summaries(stores, filters):
    quiet, rows = stores
    with Store(quiet, create=False) as a, Store(rows, create=False) as b:
        n = count_findings(a, 2, filters, finished=False)
        assert n == count_findings(b, 2, filters, finished=False)

        def shown(r) -> tuple:
            return (r.record_id, r.check_id, r.status, r.value, r.threshold, r.message, r.as_of)

        # Within a record, pages follow the store's own check numbering, which the two stores gave
        # out in different orders: each store's pages are slices of its own full list, and the two
        # lists hold the same findings.
        every = {}
        for name, store in (("quiet", a), ("rows", b)):
            every[name] = [shown(r) for r in findings_all(store, 2, filters)]
            assert len(every[name]) == n
            for page in (1, 2, max(1, (n + 39) // 40)):
                got = [shown(r) for r in findings_page(store, 2, filters, page=page, per_page=40)]
                assert got == every[name][(page - 1) * 40 : page * 40]
        assert sorted(every["quiet"], key=repr) == sorted(every["rows"], key=repr)


def test_a_summarised_finding_id_names_its_run_and_record_version():
    from engine.store.finding_view import quiet_id

    ids = [quiet_id(3, 70_000, 5), quiet_id(3, 70_001, 0), 12, quiet_id(1, 2, 1022)]
    rows, quiet = split_ids(ids)
    assert rows == [12] and quiet == {3: {70_000, 70_001}, 1: {2}}
    assert len(set(ids)) == 4 and all(i < 0 for i in ids if i != 12)
