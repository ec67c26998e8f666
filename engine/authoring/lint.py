"""`compliance rules lint`: every problem of a rule pack, with file:line:column and a suggestion.

Beyond what loading and compiling already reject (YAML syntax, unknown or missing fields,
expressions that do not parse, unknown record fields, units, duplicate ids, periods outside the
pack), lint looks at what the rules *mean*:

* placeholders (``待填写``) left by the scaffold;
* applicability conditions that can never be true (``x > 5 and x < 3``, an enum compared with a
  value not among its choices);
* checks of one measure on the same subject and quantity whose applicability overlaps on a date
  when both are in force, with the same rule twice or thresholds that cannot both be right;
* periods in force that are empty (superseded before they start), outside the measure's, and
  threshold values or amendments that never take effect.

Finally every compiled ruleset is registered in durable-rules' C core, so what lints evaluates.
Exit status: 0 clean, 1 problems found, 2 nothing could be linted (no such pack, broken vocabulary).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from engine.authoring.scaffold import FIELD_HELP, PLACEHOLDER
from engine.policy.compiler import (
    CompiledCheck,
    CompiledKind,
    Segment,
    _Compiler,
    compile_pack,
    supersessions,
)
from engine.policy.expressions import Arith, Compare, Const, Expr, FieldRef, In, children, render
from engine.policy.loader import (
    BASE_CATALOG,
    BUILTIN_PACK,
    FIELDS_FILE,
    PACK_FILE,
    Pack,
    RuleError,
    _line_of_error,
    load_pack,
    rule_files,
)
from engine.policy.schema import MeasureFile, PackMeta, soft_words_in
from engine.records import units
from engine.records.catalog import Catalog, catalog_files, load_catalog
from engine.records.yamlsource import YamlSourceError, load_yaml_file

EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


@dataclass
class LintReport:
    problems: list[RuleError] = field(default_factory=list)
    warnings: list[RuleError] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)
    packs: list[Path] = field(default_factory=list)
    rulesets: int = 0

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_UNUSABLE
        return EXIT_FINDINGS if self.problems else EXIT_CLEAN


def format_problem(e: RuleError) -> str:
    text = e.head
    if e.suggestion:
        text += f"\n    建议 suggestion: {e.suggestion}"
    return text


# --- finding the packs ----------------------------------------------------------------------------

def resolve_targets(paths: list[Path], report: LintReport) -> tuple[list[Path], set[Path] | None]:
    """Pack roots to lint, and the files to report on (None: every file of those packs)."""
    roots: list[Path] = []
    only: set[Path] | None = set()
    for p in paths:
        p = p.resolve()
        if not p.exists():
            report.unusable.append(f"{p}: no such file or folder")
        elif p.is_file():
            if not (p.parent / PACK_FILE).is_file():
                report.unusable.append(f"{p}: not inside a policy pack (no {PACK_FILE} beside it)")
                continue
            roots.append(p.parent)
            if only is not None and p.name != PACK_FILE:
                only.add(p)
            else:
                only = None
        elif (p / PACK_FILE).is_file():
            roots.append(p)
            only = None
        else:
            sub = sorted(d for d in p.iterdir() if (d / PACK_FILE).is_file())
            if not sub:
                report.unusable.append(f"{p}: no {PACK_FILE} here or in its sub-folders "
                                       "(create one with `compliance rules new-pack`)")
            roots.extend(sub)
            only = None
    unique: list[Path] = []
    for r in roots:
        if r not in unique:
            unique.append(r)
    return unique, (only or None)


# --- YAML syntax and placeholders, with columns --------------------------------------------------

_SYNTAX_HINTS = (
    ("mapping values are not allowed", "值里含英文冒号“:”时请用引号括起整个值;或检查本行缩进是否与上一行对齐"),
    ("could not find expected ':'", "每个字段写成“名称: 值”,冒号后留一个空格;检查上一行是否缺少冒号或引号未闭合"),
    ("found character '\\t'", "YAML 不能用 Tab 缩进,请改用空格"),
    ("did not find expected key", "检查缩进:同一层的字段必须左对齐;列表项以“- ”开头"),
    ("did not find expected '-' indicator", "检查缩进:列表项必须以“- ”开头并左对齐"),
    ("found unexpected end of stream", "有引号或括号没有闭合"),
    ("while scanning a quoted scalar", "有引号没有闭合"),
    ("found undefined alias", "“*”在 YAML 中有特殊含义,请用引号括起含“*”的值"),
    ("expected ',' or ']'", "方括号列表内的项用英文逗号分隔,并以 ] 结束"),
    ("expected ',' or '}'", "花括号内的项用英文逗号分隔,并以 } 结束"),
)


def _syntax_problem(path: Path) -> RuleError | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return RuleError(str(path), None, None, f"文件无法读取(须为 UTF-8 文本) cannot read: {exc}",
                         suggestion="用文本编辑器另存为 UTF-8 编码")
    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc)
        hint = next((h for k, h in _SYNTAX_HINTS if k in problem or k in str(exc.context or "")),
                    "检查本行及上一行的缩进、冒号和引号")
        return RuleError(str(path), mark.line + 1 if mark else None, None, f"YAML 语法错误 syntax error: {problem}",
                         mark.column + 1 if mark else None, hint)
    except yaml.YAMLError as exc:
        return RuleError(str(path), None, None, f"YAML 语法错误 syntax error: {exc}", None,
                         "检查缩进、冒号和引号")
    except (ValueError, OverflowError) as exc:  # a value the reader refuses: an impossible date (2024-02-30)
        return RuleError(str(path), _line_of_error(exc, path), None,
                         f"无法读取的取值 unreadable value (an impossible date?): {exc}", None,
                         "日期写作 YYYY-MM-DD,且须为真实存在的日期")
    return None


def _key_column(file: str, line: int | None, key: str | None) -> int | None:
    """1-based column of `key:` (or of the list item) on `line` of `file`."""
    if not line:
        return None
    text = _line(file, line)
    if text is None:
        return None
    if key is not None and not key.isdigit():
        m = re.search(rf"(?<![\w.-]){re.escape(key)}\s*:", text)
        if m:
            return m.start() + 1
    stripped = len(text) - len(text.lstrip(" -"))
    return stripped + 1


def _value_column(file: str, line: int | None, key: str) -> int | None:
    """1-based column where the value of `key:` starts on `line` (after an opening quote)."""
    text = _line(file, line) if line else None
    if text is None:
        return None
    m = re.search(rf"(?<![\w.-]){re.escape(key)}\s*:\s*", text)
    if not m:
        return None
    col = m.end()
    if col < len(text) and text[col] in "\"'":
        col += 1
    return col + 1


_LINES: dict[str, list[str]] = {}


def _line(file: str, line: int) -> str | None:
    if file not in _LINES:
        try:
            _LINES[file] = Path(file).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            _LINES[file] = []
    lines = _LINES[file]
    return lines[line - 1] if 0 < line <= len(lines) else None


def _placeholders(path: Path) -> list[RuleError]:
    try:
        doc = load_yaml_file(path)
    except YamlSourceError:
        return []
    out: list[RuleError] = []

    def walk(node: Any, p: tuple) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, p + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, p + (i,))
        elif isinstance(node, str) and PLACEHOLDER in node:
            key = next((str(x) for x in reversed(p) if isinstance(x, str)), None)
            line = doc.line_of(p)
            help_text = FIELD_HELP.get(key or "", "")
            out.append(RuleError(str(path), line, ".".join(map(str, p)), f"尚未填写 placeholder not filled: {node}",
                                 _value_column(str(path), line, key) if key else None,
                                 f"把“{node}”替换为实际内容" + (f"({help_text})" if help_text else "")))

    walk(doc.data, ())
    return out


# --- loader errors: add columns and suggestions ----------------------------------------------------

def _model_at(model: type[BaseModel], parts: list[str]) -> type[BaseModel] | None:
    """The pydantic model holding the last key of a YAML path (e.g. checks.0.threshold.valuez)."""
    current: Any = model
    for part in parts[:-1]:
        if part.isdigit():
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        f = next((f for name, f in current.model_fields.items() if part in (name, f.alias)), None)
        if f is None:
            return None
        current = _inner_model(f.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _inner_model(arg)
        if m is not None:
            return m
    if isinstance(ann, types.UnionType):
        return None
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _enrich_loader_error(e: RuleError) -> RuleError:
    root_model = PackMeta if Path(e.file).name == PACK_FILE else MeasureFile
    parts = (e.field or "").split(".") if e.field else []
    key = parts[-1] if parts else None
    m = re.match(r"(unknown|missing) field '(.+)'", e.message)
    if m and key is not None:
        kind, name = m.groups()
        model = _model_at(root_model, parts)
        if kind == "unknown":
            e.column = _key_column(e.file, e.line, name)
            e.message = f"未知字段 unknown field {name!r}"
            close = difflib.get_close_matches(name, _keys_of(model), n=1, cutoff=0.5) if model else []
            if close:
                e.suggestion = f"did you mean {close[0]}? ({FIELD_HELP.get(close[0], '')})".replace(" ()", "")
            elif model:
                e.suggestion = "可用的字段: " + ", ".join(_keys_of(model))
        else:
            e.column = _key_column(e.file, e.line, parts[-2] if len(parts) > 1 else None)
            e.message = f"缺少字段 missing field {name!r}"
            e.suggestion = f"添加 {name}: …" + (f"({FIELD_HELP[name]})" if name in FIELD_HELP else "")
        return e
    if e.column is None:
        e.column = _key_column(e.file, e.line, key)
    if e.suggestion is None:
        if "date" in e.message:
            e.suggestion = "日期写成 2024-01-15 的形式"
        elif "ends" in e.message and "before it starts" in e.message:
            e.suggestion = "有效期为空:to 必须不早于 from,请核对起止日期"
        elif key in FIELD_HELP:
            e.suggestion = FIELD_HELP[key]
    return e


# --- compile errors: columns inside expressions ------------------------------------------------------

_EXPR_KEYS = ("quantity", "applies_when", "expr", "value", "year")


def _enrich_compile_error(e: RuleError) -> RuleError:
    parts = (e.field or "").split(".")
    key = parts[-1] if parts else None
    if e.column is not None and key in _EXPR_KEYS:
        start = _value_column(e.file, e.line, key)
        if start is not None:
            e.column = start + e.column - 1
    elif e.column is None:
        e.column = _key_column(e.file, e.line, key)
    if e.suggestion and e.message.startswith("unknown field") and "did you mean" not in e.suggestion:
        e.suggestion = f"did you mean {e.suggestion}?"
    return e


# --- meaning: satisfiability of conditions ---------------------------------------------------------

def _satisfiable(conj: frozenset, catalog: Catalog, kind: str) -> bool:
    """Can some record make every literal of this conjunction true? (fields are independent)."""
    present = {lit[1] for lit in conj if lit[0] == "ex"}
    absent = {lit[1] for lit in conj if lit[0] == "nex"}
    if present & absent:
        return False
    by_key: dict[str, list[tuple[str, Any]]] = {}
    for lit in conj:
        if lit[0] == "cmp":
            by_key.setdefault(lit[2], []).append((lit[1], lit[3]))
    for key, tests in by_key.items():
        spec = catalog.field(kind, key) if not key.startswith("_") else None
        eq = {v for op, v in tests if op == "=="}
        ne = {v for op, v in tests if op == "!="}
        if len(eq) > 1 or eq & ne:
            return False
        if spec is not None and spec.type == "enum":
            allowed = set(spec.choices) - ne
            if eq and not eq <= set(spec.choices) or not allowed:
                return False
        if spec is not None and spec.type == "boolean" and {True, False} <= (eq | ne):
            return False
        nums = [(op, v) for op, v in tests if isinstance(v, (int, float)) and not isinstance(v, bool)]
        lo, lo_strict, hi, hi_strict = None, False, None, False
        for op, v in nums:
            if op in (">", ">=") and (lo is None or v > lo or (v == lo and op == ">")):
                lo, lo_strict = v, op == ">"
            if op in ("<", "<=") and (hi is None or v < hi or (v == hi and op == "<")):
                hi, hi_strict = v, op == "<"
        for v in eq:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if (lo is not None and (v < lo or (v == lo and lo_strict))) or \
                        (hi is not None and (v > hi or (v == hi and hi_strict))):
                    return False
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_strict or hi_strict or lo in ne))):
            return False
    return True


def _can_be_true(comp: _Compiler, exprs: list[Expr | None], catalog: Catalog, kind: str) -> bool:
    dnf: list[frozenset] = [frozenset()]
    for e in exprs:
        if e is None:
            continue
        dnf = [a | b for a in dnf for b in comp.T(e)]
    return any(_satisfiable(c, catalog, kind) for c in dnf)


def _enum_values(e: Expr, catalog: Catalog, kind: str) -> list[tuple[str, str, list[str]]]:
    """(field, value, choices) for every enum comparison with a value not among its choices."""
    out = []
    if isinstance(e, Compare):
        for a, b in ((e.left, e.right), (e.right, e.left)):
            if isinstance(a, FieldRef) and isinstance(b, Const) and isinstance(b.value, str):
                spec = catalog.field(kind, a.name)
                if spec is not None and spec.type == "enum" and b.value not in spec.choices:
                    out.append((a.name, b.value, spec.choices))
    if isinstance(e, In) and isinstance(e.operand, FieldRef):
        spec = catalog.field(kind, e.operand.name)
        if spec is not None and spec.type == "enum":
            out += [(e.operand.name, str(v), spec.choices) for v in e.values if v not in spec.choices]
    for c in children(e):
        out += _enum_values(c, catalog, kind)
    return out


# --- meaning: units of a computed quantity ---------------------------------------------------------

def _unit_of(e: Expr, catalog: Catalog, kind: str) -> str | None:
    """The unit a quantity expression yields, when it can be told (fields, + - and one division)."""
    if isinstance(e, FieldRef):
        spec = catalog.field(kind, e.name)
        return spec.unit if spec else None
    if isinstance(e, Arith):
        lu, ru = _unit_of(e.left, catalog, kind), _unit_of(e.right, catalog, kind)
        if e.op in "+-" and lu and ru and lu == ru:
            return lu
        if e.op == "/" and lu and ru and "/" not in lu + ru and lu != ru:
            return f"{lu}/{ru}"
    return None


# --- the whole lint -------------------------------------------------------------------------------

def lint(paths: list[Path], context_packs: list[Path] | None = None) -> LintReport:
    """Lint the packs at `paths` (default: the built-in pack and `context_packs`).

    `context_packs` are loaded beside the linted ones (for superseded_by and pack-id clashes) but
    their own problems are not reported.
    """
    report = LintReport()
    if paths:
        roots, only = resolve_targets(paths, report)
    else:
        roots, only = [BUILTIN_PACK, *(context_packs or [])], None
    if report.unusable:
        return report
    report.packs = roots
    context = [p.resolve() for p in [BUILTIN_PACK, *(context_packs or [])] if p.resolve() not in roots]
    problems: list[RuleError] = []
    linted: list[Pack] = []
    bad_syntax: set[str] = set()
    placeholder_at: set[tuple[str, str]] = set()
    for root in roots:
        files = [root / PACK_FILE, *rule_files(root)] + ([root / FIELDS_FILE] if (root / FIELDS_FILE).is_file() else [])
        for f in files:
            syn = _syntax_problem(f)
            if syn is not None:
                problems.append(syn)
                bad_syntax.add(str(f))
                continue
            for ph in _placeholders(f):
                problems.append(ph)
                placeholder_at.add((ph.file, ph.field or ""))
        pack, errs = load_pack(root)
        for e in errs:
            if e.file in bad_syntax or (e.file, e.field or "") in placeholder_at:
                continue
            problems.append(_enrich_loader_error(e))
        if pack is not None:
            linted.append(pack)
        elif not any(Path(p.file).parent == root for p in problems):
            problems.extend(errs)
    others: list[Pack] = []
    for root in context:
        pack, _ = load_pack(root)
        if pack is not None and all(pack.meta.id != p.meta.id for p in linted):
            others.append(pack)
    try:
        catalog = load_catalog(catalog_files(BASE_CATALOG)
                               + [p.fields_file for p in [*linted, *others] if p.fields_file])
    except YamlSourceError as exc:
        if Path(exc.file).parent in roots:
            problems.append(RuleError(exc.file, exc.line, None, exc.message, suggestion="核对字段定义"))
            report.problems = _only(problems, only)
        else:
            report.unusable.append(str(exc))
        return report
    ids: dict[str, Path] = {p.meta.id: p.root for p in others}
    for p in linted:
        if p.meta.id in ids:
            problems.append(RuleError(str(p.root / PACK_FILE), p.meta_doc.line_of(("id",)), "id",
                                      f"政策包编号 {p.meta.id!r} 已被 {ids[p.meta.id]} 使用 (pack id clash)",
                                      _key_column(str(p.root / PACK_FILE), p.meta_doc.line_of(("id",)), "id"),
                                      "换一个编号,如在末尾加年份"))
        ids[p.meta.id] = p.root
    all_packs = [*linted, *others]
    sup, errs = supersessions(all_packs)
    problems.extend(_enrich_compile_error(e) for e in errs)
    loaded_ids = {p.meta.id for p in all_packs}
    for p in linted:
        for ms in p.measures:
            for ci, c in enumerate(ms.measure.checks):
                if c.superseded_by and ":" in c.superseded_by and c.superseded_by.split(":")[0] not in loaded_ids:
                    line = ms.doc.line_of(("checks", ci, "superseded_by"))
                    report.warnings.append(RuleError(
                        str(ms.path), line, f"checks.{ci}.superseded_by",
                        f"取代本项的政策包 {c.superseded_by.split(':')[0]} 未加载,无法核对 {c.superseded_by}",
                        _key_column(str(ms.path), line, "superseded_by"),
                        "lint 时用 --rules 同时给出该政策包", severity="warning"))
    from engine.evaluation.driver import EngineError, RulesetHandle

    for p in linted:
        kinds, errs = compile_pack(p, catalog, sup)
        problems.extend(_enrich_compile_error(e) for e in errs)
        for ck in kinds.values():
            try:
                RulesetHandle(f"lint_{p.meta.id.replace('-', '_').replace('.', '_')}_{ck.kind}", ck.ruleset)
                report.rulesets += 1
            except EngineError as exc:
                cc = ck.checks[0]
                problems.append(RuleError(cc.file, cc.line, None, f"durable-rules 拒绝了编译结果: {exc}",
                                          suggestion="请把本文件和这条信息报告给开发人员"))
            problems.extend(_meaning(p, ck, catalog))
        problems.extend(_periods(p))
        problems.extend(superseded_empty(p, kinds))
    report.problems = _only(problems, only)
    report.warnings = _only(report.warnings, only)
    return report


def _only(problems: list[RuleError], only: set[Path] | None) -> list[RuleError]:
    seen: set[tuple] = set()
    out = []
    for e in problems:
        k = (e.file, e.line, e.column, e.message)
        if k in seen:
            continue
        seen.add(k)
        if only is None or Path(e.file).resolve() in only:
            out.append(e)
    return sorted(out, key=lambda e: (e.file, e.line or 0, e.column or 0))


def _check_err(cc: CompiledCheck, path: tuple, message: str, suggestion: str, ms_doc: Any = None) -> RuleError:
    ci = cc.measure.checks.index(cc.check)
    doc = ms_doc
    line = doc.line_of(("checks", ci, *path)) if doc is not None else cc.line
    key = next((str(x) for x in reversed(path) if isinstance(x, str)), "id")
    return RuleError(cc.file, line, ".".join(map(str, ("checks", ci, *path))), message,
                     _key_column(cc.file, line, key), suggestion)


def _meaning(pack: Pack, ck: CompiledKind, catalog: Catalog) -> list[RuleError]:
    out: list[RuleError] = []
    comp = _Compiler(ck.kind, catalog)
    docs = {str(ms.path): ms.doc for ms in pack.measures}
    for cc in ck.checks:
        doc = docs.get(cc.file)
        # Enum values that no record can have.
        seen_amend: set[int] = set()
        for seg in cc.segments:
            if seg.applies is None or seg.amendment in seen_amend:
                continue
            seen_amend.add(seg.amendment)
            path: tuple = ("applies_when",) if seg.amendment == 0 else ("amendments", seg.amendment - 1, "applies_when")
            for fname, value, choices in _enum_values(seg.applies, catalog, ck.kind):
                spec = catalog.field(ck.kind, fname)
                close = difflib.get_close_matches(value, choices, n=1, cutoff=0.3)
                out.append(_check_err(
                    cc, path, f"{spec.label if spec else fname}/{fname} 没有取值 {value!r},该比较永远不成立 "
                    f"(value not among the field's choices)",
                    (f"did you mean {close[0]!r}? " if close else "") + f"可选值: {'、'.join(choices)}", doc))
            if not _can_be_true(comp, [seg.applies], catalog, ck.kind):
                out.append(_check_err(
                    cc, path, f"适用条件永远不成立 (condition can never be true): {render(seg.applies)}",
                    "核对比较方向和数值,如 x > 5 and x < 3 没有任何取值能满足", doc))
        # Soft wording in the source sentence must be declared (or weighed and set aside with a note).
        soft_found = soft_words_in(cc.check.source)
        if soft_found and cc.check.soft is None:
            words = "、".join(f"“{w}”" for w in soft_found)
            out.append(_check_err(cc, ("source",), f"原文含软性用语{words},须写 soft (source holds soft wording: "
                                  "results near the line need review)",
                                  f"soft: {{word: {soft_found[0]}}}  或 soft: {{words: [], note: 说明为何不适用}}", doc))
        # Unit of a computed quantity.
        q_unit = _unit_of(cc.quantity, catalog, ck.kind)
        if q_unit and cc.check.unit and not isinstance(cc.quantity, FieldRef) and q_unit != cc.check.unit \
                and units.is_known(q_unit):
            out.append(_check_err(cc, ("unit",), f"算式 {render(cc.quantity)} 的单位是 {q_unit},"
                                  f"检查项写的是 {cc.check.unit} (unit mismatch)", f"unit: {q_unit}", doc))
    out.extend(_conflicts(pack, ck, catalog, comp, docs))
    return out


def _direction(op: str) -> str:
    return {">=": "lo", ">": "lo", "<=": "hi", "<": "hi", "==": "eq", "!=": "ne"}[op]


def _conflict(op_a: str, a: Decimal | bool, op_b: str, b: Decimal | bool) -> str | None:
    """Why two requirements on one quantity cannot both be right, or None."""
    da, db = _direction(op_a), _direction(op_b)
    if isinstance(a, bool) or isinstance(b, bool):
        if op_a == op_b and a != b:
            return f"一个要求 {op_a} {a},另一个要求 {op_b} {b}"
        return "两个检查项要求完全相同 (the same rule twice)" if (op_a, a) == (op_b, b) else None
    if (op_a, a) == (op_b, b):
        return "两个检查项要求完全相同 (the same rule twice)"
    if da == db and da in ("lo", "hi"):
        lo, hi = sorted([a, b])
        return (f"标准值不一致: {op_a} {a} 与 {op_b} {b};介于 {lo} 与 {hi} 之间的数值一个判符合、"
                "另一个判不符合 (incompatible thresholds)")
    if {da, db} == {"lo", "hi"}:
        (lo_op, lo), (hi_op, hi) = ((op_a, a), (op_b, b)) if da == "lo" else ((op_b, b), (op_a, a))
        if lo > hi or (lo == hi and (lo_op == ">" or hi_op == "<")):
            return f"没有任何数值能同时满足 {lo_op} {lo} 和 {hi_op} {hi} (contradictory thresholds)"
        return None  # a range written as two checks
    if da == "eq" and db == "eq":
        return f"一个要求等于 {a},另一个要求等于 {b}"
    if "eq" in (da, db):
        (eop, ev), (oop, ov) = ((op_a, a), (op_b, b)) if da == "eq" else ((op_b, b), (op_a, a))
        ok = {">=": ev >= ov, ">": ev > ov, "<=": ev <= ov, "<": ev < ov, "!=": ev != ov}[oop]
        return None if ok else f"要求等于 {ev} 的同时要求 {oop} {ov} (contradictory thresholds)"
    return None


def _conflicts(pack: Pack, ck: CompiledKind, catalog: Catalog, comp: _Compiler,
               docs: dict[str, Any]) -> list[RuleError]:
    out: list[RuleError] = []
    by_measure: dict[int, list[CompiledCheck]] = {}
    for cc in ck.checks:
        by_measure.setdefault(cc.measure.measure, []).append(cc)
    for checks in by_measure.values():
        for i, a in enumerate(checks):
            for b in checks[i + 1:]:
                if render(a.quantity) != render(b.quantity) or a.check.nature != b.check.nature \
                        or a.check.due != b.check.due:
                    continue
                reason = _first_conflict(a, b, comp, catalog, ck.kind)
                if reason is None:
                    continue
                why, day = reason
                out.append(_check_err(
                    b, ("threshold",), f"与 {a.full_id}({Path(a.file).name}:{a.line})冲突 (overlapping checks): "
                    f"同一对象同一数值 {render(b.quantity)},{day} 起同时有效且适用范围重叠;{why}",
                    "保留一个检查项;如标准已调整,在 threshold.values 中追加带 from 日期的新值;"
                    "如适用对象不同,用 applies_when 把两者区分开", docs.get(b.file)))
    return out


def _first_conflict(a: CompiledCheck, b: CompiledCheck, comp: _Compiler, catalog: Catalog,
                    kind: str) -> tuple[str, dt.date] | None:
    for sa in a.segments:
        for sb in b.segments:
            start, end = max(sa.start, sb.start), min(sa.end, sb.end)
            if start > end:
                continue
            ta, tb = _const(sa), _const(sb)
            if ta is None or tb is None:
                continue
            why = _conflict(a.check.op, ta, b.check.op, tb)
            if why is None:
                continue
            if _can_be_true(comp, [sa.applies, sb.applies], catalog, kind):
                return why, start
    return None


def _const(seg: Segment) -> Decimal | bool | None:
    return seg.threshold.value if isinstance(seg.threshold, Const) and not isinstance(seg.threshold.value, str) \
        else None


def _periods(pack: Pack) -> list[RuleError]:
    out: list[RuleError] = []
    pmeta = pack.meta.period
    for ms in pack.measures:
        m = ms.measure
        f = str(ms.path)
        if m.in_force and not (pmeta.start <= m.in_force.start and m.in_force.end <= pmeta.end):
            line = ms.doc.line_of(("in_force",))
            out.append(RuleError(f, line, "in_force", f"条款有效期 {m.in_force.start}–{m.in_force.end} 超出政策包有效期 "
                                 f"{pmeta.start}–{pmeta.end} (period outside the pack's)",
                                 _key_column(f, line, "in_force"), "把有效期收在政策包 period 之内"))
        for ci, c in enumerate(m.checks):
            outer = m.in_force or pmeta
            period = c.in_force or outer
            if c.in_force and m.in_force and not (m.in_force.start <= c.in_force.start
                                                  and c.in_force.end <= m.in_force.end):
                line = ms.doc.line_of(("checks", ci, "in_force"))
                out.append(RuleError(f, line, f"checks.{ci}.in_force",
                                     f"检查项有效期 {c.in_force.start}–{c.in_force.end} 超出本条有效期 "
                                     f"{m.in_force.start}–{m.in_force.end} (period outside the measure's)",
                                     _key_column(f, line, "in_force"), "把检查项有效期收在本条 in_force 之内"))
            for vi, v in enumerate(c.threshold.values):
                if v.start > period.end:
                    line = ms.doc.line_of(("checks", ci, "threshold", "values", vi, "from"))
                    out.append(RuleError(f, line, f"checks.{ci}.threshold.values.{vi}.from",
                                         f"标准值自 {v.start} 起,晚于有效期截止日 {period.end},永远不会生效 "
                                         "(value never in force)", _key_column(f, line, "from"),
                                         "核对日期;如政策延期,先延长 period/in_force"))
            for ai, am in enumerate(c.amendments):
                if not (period.start < am.start <= period.end):
                    line = ms.doc.line_of(("checks", ci, "amendments", ai, "from"))
                    out.append(RuleError(f, line, f"checks.{ci}.amendments.{ai}.from",
                                         f"修订自 {am.start} 起,不在有效期 {period.start}–{period.end} 之内,"
                                         "不会生效 (amendment never takes effect)", _key_column(f, line, "from"),
                                         "修订日期应晚于有效期起始日、不晚于截止日"))
    return out


def superseded_empty(pack: Pack, kinds: dict[str, CompiledKind]) -> list[RuleError]:
    """Checks with no version left in force (superseded before they start)."""
    out = []
    for ck in kinds.values():
        for cc in ck.checks:
            if not cc.segments:
                out.append(_check_err(cc, ("superseded_by",), "有效期为空:本检查项在生效前已被取代 "
                                      "(empty period in force)", "删除本检查项,或核对 superseded_by",
                                      next((ms.doc for ms in pack.measures if str(ms.path) == cc.file), None)))
    return out
