"""The compiled-policy cache: reused for the same files, rebuilt when any rule file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.evaluation.evaluate import Evaluator
from engine.policy.cache import ENV_VAR, load_policy_cached, policy_key
from engine.policy.loader import PolicyError
from tests.conftest import LOGIC_PACK, project


@pytest.fixture()
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "cache"))
    return Path(shutil.copytree(LOGIC_PACK, tmp_path / "logic"))


def test_second_load_comes_from_the_cache_and_judges_the_same(pack: Path, tmp_path: Path) -> None:
    first = load_policy_cached([pack])
    assert len(list((tmp_path / "cache").glob("policy-*.pickle"))) == 1
    second = load_policy_cached([pack])
    assert second.fingerprint == first.fingerprint
    rec = project(first, "P1", category="技改项目", total_investment=480, land_area=35, annual_tax=60)
    a = Evaluator(first).evaluate([rec]).findings
    b = Evaluator(second).evaluate([rec]).findings
    assert a and a == b


def test_editing_a_rule_file_changes_the_key(pack: Path) -> None:
    before = policy_key([pack])
    rule = next(p for p in sorted(pack.glob("*.yaml")) if p.name not in ("pack.yaml", "fields.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert policy_key([pack]) != before


def test_a_broken_pack_is_reported_every_time_not_cached(pack: Path, tmp_path: Path) -> None:
    (pack / "zz-broken.yaml").write_text("measure: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyError):
            load_policy_cached([pack])
    assert not list((tmp_path / "cache").glob("policy-*.pickle"))


def test_cache_can_be_turned_off(pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "off")
    assert load_policy_cached([pack]).packs
    assert not (tmp_path / "cache").exists()
