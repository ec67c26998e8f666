"""`compliance rules lint`: each kind of mistake is reported at its file:line with a suggestion."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.authoring.conditions import _can_be_true
from engine.authoring.lint import lint
from engine.authoring.lintreport import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE
from engine.cli import main
from engine.policy.compiler import _Compiler
from engine.policy.expression_tree import And, Compare, Const, FieldRef
from engine.policy.loader import BUILTIN_PACK
from engine.records.catalog import Catalog

PACK = """\
id: lint-test
title: 测试政策
number: 测试〔2024〕1号
issuer: 测试市人民政府
issued_on: 2024-01-01
period: {from: 2024-01-01, to: 2025-12-31}
"""

HEAD = """\
measure: 1
title: 投资强度
section: 一、测试
lead_departments: [市发展改革委]
source: 制造业项目总投资不低于500万元。
checks:
"""


def check(
    cid: str = "m1.invest",
    *,
    quantity: str = "total_investment",
    unit: str = "万元",
    t_unit: str = "万元",
    value: str = "500",
    op: str = ">=",
    applies: str = 'category == "技改项目"',
    extra: str = "",
) -> str:
    return textwrap.indent(
        textwrap.dedent(f"""\
        - id: {cid}
          title: 总投资
          subject: project
          nature: standard
          source: 总投资不低于{value}万元
          applies_when: {applies}
          quantity: {quantity}
          unit: {unit}
          op: "{op}"
          threshold:
            unit: {t_unit}
            values:
              - {{from: 2024-01-01, value: {value}}}
        """)
        + textwrap.indent(extra, "  "),
        "  ",
    )


def make_pack(tmp_path: Path, files: dict[str, str], pack: str = PACK) -> Path:
    root = tmp_path / "pack"
    root.mkdir()
    (root / "pack.yaml").write_text(pack, encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [i + 1 for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines()) if needle in ln]
    return hits[nth - 1]


def run_lint(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["rules", "lint", *args])
    return res.exit_code, res.output


def test_misspelt_field_name_points_at_the_expression_and_suggests_the_field(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"m01.yaml": HEAD + check(quantity="total_investmnt")})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    line = line_of(f, "quantity: total_investmnt")
    col = f.read_text(encoding="utf-8").splitlines()[line - 1].index("total_investmnt") + 1
    assert code == EXIT_FINDINGS
    assert f"{f}:{line}:{col}: " in out
    assert "did you mean 总投资/total_investment?" in out


def test_threshold_unit_that_does_not_match_the_quantity_is_reported_with_the_right_unit(
    tmp_path: Path,
) -> None:
    root = make_pack(tmp_path, {"m01.yaml": HEAD + check(t_unit="亩")})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, 'unit: 亩')}:" in out
    assert "threshold unit 亩 does not match the quantity's unit 万元" in out
    assert "建议 suggestion: use 万元" in out


def test_computed_quantity_in_another_unit_than_declared_is_reported(tmp_path: Path) -> None:
    text = HEAD + check(quantity="total_investment / land_area", unit="元/亩", t_unit="元/亩")
    code, out = run_lint(str(make_pack(tmp_path, {"m01.yaml": text})))
    assert code == EXIT_FINDINGS
    assert "的单位是 万元/亩" in out and "unit: 万元/亩" in out


def test_duplicate_check_id_across_files_names_both_places(tmp_path: Path) -> None:
    second = HEAD.replace("measure: 1", "measure: 2") + check()
    root = make_pack(tmp_path, {"m01.yaml": HEAD + check(), "m02.yaml": second})
    code, out = run_lint(str(root))
    f2 = root / "m02.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f2}:{line_of(f2, '- id: m1.invest')}:" in out
    assert "duplicate check id 'm1.invest' (also in m01.yaml:7)" in out
    assert "give every check an id unique in the pack" in out


def test_two_contradictory_thresholds_in_one_measure_are_reported(tmp_path: Path) -> None:
    text = HEAD + check("m1.invest_a", value="500") + check("m1.invest_b", value="800")
    root = make_pack(tmp_path, {"m01.yaml": text})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, 'threshold:', 2)}:" in out
    assert "与 lint-test:m1.invest_a(m01.yaml:7)冲突" in out
    assert "介于 500 与 800 之间" in out
    assert "threshold.values 中追加带 from 日期的新值" in out


def test_yaml_syntax_error_gives_line_column_and_a_hint(tmp_path: Path) -> None:
    bad = HEAD + check().replace("    subject: project", "   subject: project")
    root = make_pack(tmp_path, {"m01.yaml": bad})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, 'subject: project')}:4: YAML 语法错误" in out
    assert "建议 suggestion: " in out


def test_unknown_key_suggests_the_closest_field(tmp_path: Path) -> None:
    text = HEAD + check().replace("threshold:", "threshhold:")
    root = make_pack(tmp_path, {"m01.yaml": text})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, 'threshhold:')}:5: checks.0.threshhold: 未知字段" in out
    assert "did you mean threshold?" in out


def test_range_written_as_two_checks_and_disjoint_applicability_are_not_conflicts(tmp_path: Path) -> None:
    text = (
        HEAD
        + check("m1.low", value="100")
        + check("m1.high", value="5000", op="<=")
        + check("m1.other", value="800", applies='category == "能源"')
    )
    code, out = run_lint(str(make_pack(tmp_path, {"m01.yaml": text})))
    assert code == EXIT_CLEAN, out


def test_condition_that_can_never_be_true_is_reported(tmp_path: Path) -> None:
    text = HEAD + check(applies="total_investment > 5 and total_investment < 3")
    root = make_pack(tmp_path, {"m01.yaml": text})
    code, out = run_lint(str(root))
    assert code == EXIT_FINDINGS
    assert f"{root / 'm01.yaml'}:{line_of(root / 'm01.yaml', 'applies_when')}:" in out
    assert "适用条件永远不成立" in out


def test_enum_value_not_among_choices_suggests_the_closest_choice(tmp_path: Path) -> None:
    text = HEAD + check(applies='category == "技改"')
    code, out = run_lint(str(make_pack(tmp_path, {"m01.yaml": text})))
    assert code == EXIT_FINDINGS
    assert "没有取值 '技改'" in out and "did you mean '技改项目'?" in out


def test_period_outside_the_pack_and_empty_period_are_reported(tmp_path: Path) -> None:
    outside = HEAD + check(extra="in_force: {from: 2023-01-01, to: 2024-12-31}\n")
    empty = HEAD.replace("measure: 1", "measure: 2") + check(
        "m2.x", extra="in_force: {from: 2025-01-01, to: 2024-01-01}\n"
    )
    root = make_pack(tmp_path, {"m01.yaml": outside, "m02.yaml": empty})
    code, out = run_lint(str(root))
    assert code == EXIT_FINDINGS
    assert "lies outside the pack's 2024-01-01–2025-12-31" in out
    assert f"{root / 'm02.yaml'}:{line_of(root / 'm02.yaml', 'in_force')}:" in out
    assert "有效期为空" in out


def test_scaffold_lints_with_placeholders_until_filled(tmp_path: Path) -> None:
    runner = CliRunner()
    d = tmp_path / "lu-2024"
    assert runner.invoke(main, ["rules", "new-pack", str(d)]).exit_code == 0
    code, out = run_lint(str(d))
    assert code == EXIT_FINDINGS and f"{d / 'pack.yaml'}:{line_of(d / 'pack.yaml', 'number:')}:9: " in out
    assert "尚未填写" in out
    d.joinpath("pack.yaml").write_text(PACK.replace("lint-test", "lu-2024"), encoding="utf-8")
    res = runner.invoke(main, ["rules", "new", "--pack", str(d), "--measure", "5", "--title", "投资强度"])
    assert res.exit_code == 0, res.output
    code, out = run_lint(str(d))
    assert code == EXIT_FINDINGS and out.count("尚未填写") == 5
    f = d / "m05.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("【待填写:", "【已填:"), encoding="utf-8")
    code, out = run_lint(str(d))
    assert code == EXIT_CLEAN, out
    res = runner.invoke(main, ["rules", "test", str(d), "--coverage"])
    assert res.exit_code == 0, res.output
    assert "4 passed, 0 failed" in res.output


def test_not_a_pack_is_unusable(tmp_path: Path) -> None:
    code, _ = run_lint(str(tmp_path / "nowhere"))
    assert code == EXIT_UNUSABLE
    code, _ = run_lint(str(tmp_path))
    assert code == EXIT_UNUSABLE


def test_linting_one_file_reports_only_that_file(tmp_path: Path) -> None:
    second = HEAD.replace("measure: 1", "measure: 2") + check("m2.x", quantity="total_investmnt")
    root = make_pack(tmp_path, {"m01.yaml": HEAD + check(quantity="land_areaa"), "m02.yaml": second})
    code, out = run_lint(str(root / "m02.yaml"))
    assert code == EXIT_FINDINGS and "m02.yaml" in out and "m01.yaml" not in out


def test_builtin_heze_pack_lints_clean() -> None:
    report = lint([BUILTIN_PACK])
    assert not report.unusable
    assert [str(p) for p in report.problems] == []
    assert report.rulesets >= 1


OPS = st.sampled_from([">", ">=", "<", "<=", "==", "!="])
VALUES = st.integers(min_value=-3, max_value=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(OPS, VALUES), min_size=1, max_size=3))
def test_never_true_verdict_agrees_with_brute_force(tests: list[tuple[str, int]]) -> None:
    """A conjunction of comparisons on one number is satisfiable iff some value satisfies it."""
    catalog = _catalog()
    parts = tuple(Compare(op, FieldRef("total_investment"), Const(Decimal(v))) for op, v in tests)
    expr = parts[0] if len(parts) == 1 else And(parts)
    got = _can_be_true(_Compiler("project", catalog), [expr], catalog, "project")
    candidates = [Decimal(n) / 2 for n in range(-10, 11)]
    ops = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    want = any(all(ops[op](x, v) for op, v in tests) for x in candidates)
    assert got == want


_CATALOG: list[Catalog] = []


def _catalog() -> Catalog:
    if not _CATALOG:
        from engine.policy.loader import BASE_CATALOG
        from engine.records.catalog import catalog_files, load_catalog

        _CATALOG.append(load_catalog(catalog_files(BASE_CATALOG)))
    return _CATALOG[0]


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COMPLIANCE_RULES", raising=False)
    monkeypatch.delenv("COMPLIANCE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def test_missing_field_names_what_to_add(tmp_path: Path) -> None:
    text = HEAD + check().replace("    subject: project\n", "")
    root = make_pack(tmp_path, {"m01.yaml": text})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, '- id: m1.invest')}:" in out
    assert "缺少字段 missing field 'subject'" in out and "添加 subject:" in out


def test_expression_that_does_not_parse_points_into_it(tmp_path: Path) -> None:
    text = HEAD + check(applies="total_investment >")
    root = make_pack(tmp_path, {"m01.yaml": text})
    code, out = run_lint(str(root))
    f = root / "m01.yaml"
    assert code == EXIT_FINDINGS
    assert f"{f}:{line_of(f, 'applies_when')}:" in out and "syntax error" in out
