"""Shared fixtures: the built-in policy, the logic test pack, record builders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.policy.policy import Policy, load_policy
from engine.records.model import Normaliser, RawRecord, Record, SourceRef

ROOT = Path(__file__).resolve().parents[1]
LOGIC_PACK = ROOT / "tests" / "packs" / "logic"


@pytest.fixture(autouse=True)
def user_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own user data folder, so a run without --db never touches the real one
    (the default store is compliance.db there: engine/store/location.py). Subprocesses inherit it."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    monkeypatch.delenv("COMPLIANCE_DB", raising=False)
    from engine.store.location import default_db_path

    assert default_db_path().is_relative_to(folder), "platformdirs ignored XDG_DATA_HOME on this system"
    return folder / "heze-compliance"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="session")
def logic_policy() -> Policy:
    return load_policy([LOGIC_PACK])


HEZE_PACK = ROOT / "rules" / "heze-2024"


def policy_of_measures(folder: Path, measures: list[int]) -> Policy:
    """The Heze pack cut down to some measures (copied into `folder`), so tests of them stand alone."""
    import shutil

    shutil.copy(HEZE_PACK / "pack.yaml", folder / "pack.yaml")
    for n in measures:
        for f in HEZE_PACK.glob(f"m{n:02d}-*.yaml"):
            shutil.copy(f, folder / f.name)
    return load_policy([folder], with_builtin=False)


def make_record(policy: Policy, kind: str, rid: str, **values: Any) -> Record:
    """A validated record built through the same normaliser as real input."""
    raw = RawRecord(source=SourceRef(file="test", row=1), data={"id": rid, "kind": kind, **values})
    rec, errors, unknown = Normaliser(policy.catalog).normalise(raw)
    assert rec is not None, [str(e) for e in errors]
    assert not unknown, unknown
    return rec


def project(
    policy: Policy, rid: str = "P1", submitted_on: dt.date = dt.date(2024, 9, 1), **values: Any
) -> Record:
    return make_record(policy, "project", rid, submitted_on=submitted_on, **values)


def dec(x: str) -> Decimal:
    return Decimal(x)


def assert_examples_reach_their_statuses(policy: Policy, always: set[str]) -> None:
    """Every example passes; each check's examples reach `always`, the trajectory statuses when it
    has a baseline, and not_applicable when it has an applicability condition."""
    from engine.evaluation.examples import run_examples

    report = run_examples(policy)
    assert report.failures == []
    cov = report.coverage()
    for cc in policy.checks():
        got = cov[cc.full_id]
        assert always <= got, cc.full_id
        if cc.check.baseline is not None:
            assert {"on_track", "behind_schedule", "insufficient_data"} <= got, cc.full_id
        if cc.check.applies_when:
            assert "not_applicable" in got, cc.full_id
