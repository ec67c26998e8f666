"""Lint of the rule files as written: YAML syntax, placeholders left by the scaffold, and the
columns and suggestions added to what loading and compiling reject."""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from engine.authoring.scaffold import FIELD_HELP, PLACEHOLDER
from engine.policy.loader import PACK_FILE, RuleError, _line_of_error
from engine.policy.schema import MeasureFile, PackMeta
from engine.records.yamlsource import YamlSourceError, load_yaml_file

# --- YAML syntax and placeholders, with columns --------------------------------------------------

_SYNTAX_HINTS = (
    (
        "mapping values are not allowed",
        "值里含英文冒号“:”时请用引号括起整个值;或检查本行缩进是否与上一行对齐",
    ),
    (
        "could not find expected ':'",
        "每个字段写成“名称: 值”,冒号后留一个空格;检查上一行是否缺少冒号或引号未闭合",
    ),
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
        return RuleError(
            str(path),
            None,
            None,
            f"文件无法读取(须为 UTF-8 文本) cannot read: {exc}",
            suggestion="用文本编辑器另存为 UTF-8 编码",
        )
    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc)
        hint = next(
            (h for k, h in _SYNTAX_HINTS if k in problem or k in str(exc.context or "")),
            "检查本行及上一行的缩进、冒号和引号",
        )
        return RuleError(
            str(path),
            mark.line + 1 if mark else None,
            None,
            f"YAML 语法错误 syntax error: {problem}",
            mark.column + 1 if mark else None,
            hint,
        )
    except yaml.YAMLError as exc:
        return RuleError(
            str(path), None, None, f"YAML 语法错误 syntax error: {exc}", None, "检查缩进、冒号和引号"
        )
    except (ValueError, OverflowError) as exc:  # a value the reader refuses: an impossible date (2024-02-30)
        return RuleError(
            str(path),
            _line_of_error(exc, path),
            None,
            f"无法读取的取值 unreadable value (an impossible date?): {exc}",
            None,
            "日期写作 YYYY-MM-DD,且须为真实存在的日期",
        )
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
            out.append(
                RuleError(
                    str(path),
                    line,
                    ".".join(map(str, p)),
                    f"尚未填写 placeholder not filled: {node}",
                    _value_column(str(path), line, key) if key else None,
                    f"把“{node}”替换为实际内容" + (f"({help_text})" if help_text else ""),
                )
            )

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
