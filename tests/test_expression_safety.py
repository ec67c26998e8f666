"""Rule files cannot run code: known escapes are refused at load, nothing executes.

Expressions are parsed with ``ast`` and checked against a whitelist (engine/policy/expressions.py);
YAML is loaded safely (engine/records/yamlsource.py); rule messages are filled from fixed {names}, never by
str.format or Jinja (engine/evaluation/findings.py). Each escape below would create the sentinel
file if it ran; the tests assert that the load error is clear and the sentinel never appears.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from engine.evaluation.evaluate import Evaluator
from engine.evaluation.findings import fill
from engine.policy.compiler import _resolver
from engine.policy.expressions import ExpressionError, parse
from engine.policy.loader import PolicyError
from engine.policy.policy import Policy, load_policy
from engine.records.model import Normaliser, RawRecord, SourceRef

SENTINEL = Path("/tmp/heze-expression-sentinel")
TOUCH = f"touch {SENTINEL}"

ESCAPES = {
    "import-os-system": (f"__import__('os').system('{TOUCH}')", "function calls are not allowed"),
    "class-mro": ("().__class__.__mro__[1].__subclasses__()", "not allowed"),
    "attribute-on-field": ("total_investment.__class__", "attribute access"),
    "open-passwd": ("open('/etc/passwd')", "function calls are not allowed"),
    "eval-call": (f"eval(\"__import__('os').system('{TOUCH}')\")", "function calls are not allowed"),
    "exec-call": (f"exec(\"import os; os.system('{TOUCH}')\")", "function calls are not allowed"),
    "lambda": (f"(lambda: __import__('os').system('{TOUCH}'))()", "not allowed"),
    "lambda-bare": ("lambda x: x", "lambdas"),
    "list-comprehension": ("[x for x in (1, 2)]", "comprehensions"),
    "generator": ("any(x for x in (1, 2))", "not allowed"),
    "dunder-subscript": ("total_investment['__class__']", "subscripts"),
    "globals-subscript": ("globals()['__builtins__']", "not allowed"),
    "dunder-name": ("__builtins__", "names starting with '_'"),
    "dunder-in-missing": ("missing(__import__)", "names starting with '_'"),
    "f-string": (f"f\"{{__import__('os').system('{TOUCH}')}}\" == \"0\"", "f-strings"),
    "walrus": ("(x := 1) == 1", "assignment"),
    "conditional": ("total_investment if true else 0", "conditional expressions"),
    "power-bomb": ("9 ** 9 ** 9 > 1", "operator Pow not allowed"),
    "fullwidth-open": ("ｏｐｅｎ('/etc/passwd')", "function calls are not allowed"),
    "nul-byte": ("total_investment > 1\x00", "null bytes"),
    "deep-nesting": ("1" + " + 1" * 400 + " > 0", "nested too deeply"),
    "too-long": ("total_investment > 1 and " * 200 + "true", "longer than"),
    "dict-literal": ("{'a': 1} == 1", "dictionaries"),
    "starred": ("missing(*total_investment)", "takes exactly one field name"),
}


@pytest.fixture(autouse=True)
def _no_sentinel() -> None:
    SENTINEL.unlink(missing_ok=True)
    yield
    assert not SENTINEL.exists(), "an escape attempt executed code"


@pytest.mark.parametrize("name", list(ESCAPES))
def test_escape_in_an_expression_is_refused_with_a_clear_error(name: str, policy: Policy) -> None:
    text, fragment = ESCAPES[name]
    with pytest.raises(ExpressionError) as exc:
        parse(text, _resolver(policy.catalog, "project"), "bool")
    assert fragment in str(exc.value)


PACK_YAML = """\
id: hostile-test
title: 测试政策包(注入)
number: 测试〔2024〕9号
issuer: 测试单位
issued_on: 2024-01-01
period:
  from: 2024-01-01
  to: 2025-12-31
"""

MEASURE = """\
measure: 1
title: 注入测试
section: 测试
lead_departments: [测试局]
source: 测试条文
checks:
  - id: t1.hostile
    title: 注入测试检查
    subject: project
    nature: standard
    source: 测试条文
    applies_when: {applies}
    quantity: total_investment
    unit: 万元
    op: ">="
    threshold:
      unit: 万元
      values:
        - from: 2024-01-01
          value: 500
{messages}
"""


def _pack(tmp_path: Path, applies: str, messages: str = "") -> Path:
    root = tmp_path / "hostile-pack"
    root.mkdir()
    (root / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (root / "m01-hostile.yaml").write_text(
        MEASURE.format(applies=applies, messages=messages), encoding="utf-8"
    )
    return root


@pytest.mark.parametrize(
    "name",
    [
        "import-os-system",
        "class-mro",
        "open-passwd",
        "lambda",
        "list-comprehension",
        "dunder-subscript",
        "eval-call",
    ],
)
def test_escape_in_a_rule_file_stops_the_load_naming_file_and_line(name: str, tmp_path: Path) -> None:
    text, fragment = ESCAPES[name]
    root = _pack(tmp_path, "'" + text.replace("'", "''") + "'")
    with pytest.raises(PolicyError) as exc:
        load_policy([root])
    message = str(exc.value)
    assert "m01-hostile.yaml:" in message and fragment in message
    line = message.split("m01-hostile.yaml:")[1].split(":")[0]
    assert line.isdigit() and int(line) > 1


def test_python_tag_in_a_rule_file_is_refused_and_never_runs(tmp_path: Path) -> None:
    root = _pack(tmp_path, f'!!python/object/apply:os.system ["{TOUCH}"]')
    with pytest.raises(PolicyError) as exc:
        load_policy([root])
    assert "m01-hostile.yaml" in str(exc.value) and "python/object/apply:os.system" in str(exc.value)


def test_python_tag_on_a_mapping_in_a_rule_file_is_refused(tmp_path: Path) -> None:
    root = _pack(
        tmp_path,
        'category == "技改项目"',
        messages=f'    messages: !!python/object/apply:os.system {{args: ["{TOUCH}"]}}',
    )
    with pytest.raises(PolicyError) as exc:
        load_policy([root])
    assert "is not allowed" in str(exc.value)


def test_template_injection_through_a_rule_message_prints_literally(tmp_path: Path) -> None:
    hostile = (
        "{{ 7*7 }} {% for x in range(3) %}{{ x }}{% endfor %} {title.__class__} {value!r} "
        "{0} {__class__} ${{config}} 实际值{value}"
    )
    root = _pack(
        tmp_path,
        'category == "技改项目"',
        messages="    messages:\n      compliant: '" + hostile.replace("'", "''") + "'",
    )
    policy = load_policy([root])
    raw = RawRecord(
        source=SourceRef(file="t", row=1),
        data={
            "id": "P1",
            "kind": "project",
            "category": "技改项目",
            "total_investment": 600,
            "submitted_on": dt.date(2024, 9, 1),
        },
    )
    rec = Normaliser(policy.catalog).normalise(raw)[0]
    assert rec is not None
    findings = [
        f for f in Evaluator(policy, "durable").evaluate([rec]).findings if f.check.endswith("t1.hostile")
    ]
    assert len(findings) == 1 and findings[0].status == "compliant"
    message = findings[0].message
    assert message.startswith(
        "{{ 7*7 }} {% for x in range(3) %}{{ x }}{% endfor %} {title.__class__} {value!r} "
        "{0} {__class__} ${{config}} 实际值600"
    )
    assert "49" not in message and "012" not in message


def test_fill_substitutes_only_known_names() -> None:
    out = fill("{title}{__class__}{title.__class__}{0}{{title}}{missing}", {"title": "标题"})
    assert out == "标题{__class__}{title.__class__}{0}{标题}{missing}"


def test_rule_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    laughs = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    laughs += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    root = _pack(tmp_path, 'category == "技改项目"')
    (root / "m02-bomb.yaml").write_text("\n".join(laughs) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy([root])
    assert "m02-bomb.yaml" in str(exc.value) and "alias bomb" in str(exc.value)


def test_rule_text_is_never_passed_to_eval_or_exec() -> None:
    """The modules that read rule text call no eval/exec/compile, no unsafe YAML loader, no template engine."""
    root = Path(__file__).resolve().parents[1] / "engine"
    for rel in (
        "policy/expressions.py",
        "policy/expression_tree.py",
        "policy/expression_text.py",
        "policy/loader.py",
        "policy/compiler.py",
        "policy/check_compiler.py",
        "policy/expression_rewrites.py",
        "policy/compiled.py",
        "policy/three_valued.py",
        "evaluation/findings.py",
        "evaluation/build_findings.py",
        "evaluation/missing_fields.py",
        "evaluation/compact_findings.py",
        "policy/formulas.py",
        "records/yamlsource.py",
    ):
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name):
                assert f.id not in ("eval", "exec", "compile", "__import__"), (rel, f.id, node.lineno)
            if isinstance(f, ast.Attribute):
                owner = f.value.id if isinstance(f.value, ast.Name) else ""
                assert not (owner == "yaml" and f.attr in ("load", "unsafe_load", "full_load", "load_all")), (
                    rel
                )
                assert f.attr not in ("from_string", "Template", "format_map"), (rel, f.attr, node.lineno)
