"""Scaffolding, pack test files and the config file that lists extra packs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.authoring.lint import lint
from engine.authoring.scaffold import FIELD_HELP, rule_yaml
from engine.cli import main
from engine.policy.check_schema import Check, DatedValue, Threshold
from engine.policy.config import configured_packs, pack_dirs
from engine.policy.loader import BASE_CATALOG
from engine.policy.schema import MeasureFile, PackMeta
from engine.records.catalog import catalog_files, load_catalog

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_PACK = ROOT / "docs" / "tutorial" / "lu-2024"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COMPLIANCE_RULES", raising=False)
    monkeypatch.delenv("COMPLIANCE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_rule_file_field_has_a_chinese_explanation() -> None:
    for model in (PackMeta, MeasureFile, Check, Threshold, DatedValue):
        for name, f in model.model_fields.items():
            key = f.alias or name
            assert key in FIELD_HELP, f"{model.__name__}.{key} has no explanation"
            assert any("\u4e00" <= ch <= "\u9fff" for ch in FIELD_HELP[key])


def test_scaffold_mentions_every_check_field_and_lists_the_subject_fields() -> None:
    catalog = load_catalog(catalog_files(BASE_CATALOG))
    text = rule_yaml(
        measure=5,
        title="投资强度",
        pack_number="鲁政发〔2024〕1号",
        start=dt.date(2024, 1, 10),
        catalog=catalog,
    )
    for name, f in Check.model_fields.items():
        assert f"{f.alias or name}:" in text, name
    assert "总投资/total_investment (万元)" in text
    assert "reference: 鲁政发〔2024〕1号 第5条" in text


def test_new_pack_and_new_refuse_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    d = tmp_path / "p"
    assert runner.invoke(main, ["rules", "new-pack", str(d), "--id", "p-1"]).exit_code == 0
    again = runner.invoke(main, ["rules", "new-pack", str(d)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert "id: p-1" in (d / "pack.yaml").read_text(encoding="utf-8")
    assert (
        runner.invoke(main, ["rules", "new", "--pack", str(d), "--measure", "3", "--title", "t"]).exit_code
        == 0
    )
    dup = runner.invoke(
        main, ["rules", "new", "--pack", str(d), "--measure", "3", "--title", "t", "--name", "x"]
    )
    assert dup.exit_code == 2 and "measure 3 is already in" in dup.output


def test_pack_test_files_run_and_report_failures_with_file_and_line(tmp_path: Path) -> None:
    pack = tmp_path / "lu-2024"
    shutil.copytree(TUTORIAL_PACK, pack)
    runner = CliRunner()
    ok = runner.invoke(main, ["rules", "test", str(pack)])
    assert ok.exit_code == 0, ok.output
    assert "15 passed, 0 failed" in ok.output
    t = pack / "tests" / "m05.yaml"
    t.write_text(
        t.read_text(encoding="utf-8").replace("expect: non_compliant", "expect: compliant", 1),
        encoding="utf-8",
    )
    bad = runner.invoke(main, ["rules", "test", str(pack)])
    assert bad.exit_code == 1
    assert f"FAIL {t}:3 lu-2024:m5.industrial_invest_per_mu" in bad.output
    assert "expected compliant, got non_compliant" in bad.output
    assert "14 passed, 1 failed" in bad.output


def test_config_file_and_environment_add_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = tmp_path / "lu-2024"
    shutil.copytree(TUTORIAL_PACK, pack)
    (tmp_path / "compliance.toml").write_text('[rules]\npacks = ["lu-2024"]\n', encoding="utf-8")
    assert configured_packs(tmp_path) == [pack.resolve()]
    res = CliRunner().invoke(main, ["rules", "show", "lu-2024:m5.char_town_tax_per_mu"])
    assert res.exit_code == 0 and "亩均税收" in res.output
    (tmp_path / "compliance.toml").unlink()
    monkeypatch.setenv("COMPLIANCE_RULES", str(pack))
    assert pack_dirs(["lu-2024"]) == [pack.resolve()]  # named twice, loaded once
    (tmp_path / "compliance.toml").write_text("[rules]\npackz = []\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["rules", "list"])
    assert res.exit_code == 2 and "compliance.toml" in res.output


def test_lint_checks_superseded_by_against_the_loaded_packs(tmp_path: Path) -> None:
    pack = tmp_path / "lu-2024"
    shutil.copytree(TUTORIAL_PACK, pack)
    f = pack / "m05-investment-intensity.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(
        text.replace(
            "    interpretation:", "    superseded_by: heze-2024:m2.no_such_check\n    interpretation:", 1
        ),
        encoding="utf-8",
    )
    report = lint([pack])
    assert [e.message for e in report.problems] == [
        "superseded_by 'heze-2024:m2.no_such_check': pack heze-2024 has no such check"
    ]
    assert (
        report.problems[0].line
        == text.splitlines().index("    interpretation: “不低于”含本数:亩均投资恰为300万元/亩即符合。") + 1
    )


def test_tutorial_pack_lints_clean() -> None:
    report = lint([TUTORIAL_PACK])
    assert report.exit_code == 0, [str(e) for e in report.problems]
