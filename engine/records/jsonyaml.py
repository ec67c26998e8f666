"""Reading JSON, JSON Lines and YAML record files: a list of objects (or one with a 'records' list).

A key given twice, NaN or a number too large for a field costs that cell; an object that is not a
record costs its row (its line in JSON Lines, its document in a multi-document YAML file).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.records.coerce import BadCell, bad_text
from engine.records.readitems import BlankRow, ReadError, ReadItem, _check_cells
from engine.records.record import RawRecord, RecordError, SourceRef
from engine.records.textencoding import _text_of


def _objects(p: Path, items: Any, default_kind: str | None) -> Iterator[ReadItem]:
    if isinstance(items, dict) and "records" in items:
        items = items["records"]
    if isinstance(items, BadCell):
        raise ReadError(str(p), f"'records': {items.reason}")
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ReadError(str(p), "expected a list of records (or an object with a 'records' list)")
    for i, item in enumerate(items, start=1):
        src = SourceRef(file=str(p), row=i)
        yield _object_record(src, item, default_kind)


def _object_record(
    src: SourceRef, item: Any, default_kind: str | None, what: str = "an object"
) -> RawRecord | RecordError:
    """One JSON object or YAML mapping as a raw record, or why it cannot be one."""
    if isinstance(item, BadCell):
        return RecordError(source=src, message=f"record is not {what}: {item.reason}")
    if not isinstance(item, dict):
        return RecordError(source=src, message=f"record is not {what} but {_type_name(item)}")
    return _check_cells(src, item) or RawRecord(source=src, data=item, default_kind=default_kind)


def _type_name(v: Any) -> str:
    return {
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(v), type(v).__name__)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is not last-wins: its value becomes a BadCell naming the key."""
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for k, v in pairs:
        if k in out:
            counts[k] = counts.get(k, 1) + 1
            out[k] = BadCell(f"重复的键 duplicate key {k!r} (given {counts[k]} times): which value is meant?")
        else:
            out[k] = v
    return out


def _json_int(text: str) -> int | Decimal:
    # Beyond Python's digit limit int() would fail with a message about sys.set_int_max_str_digits();
    # as a Decimal the number reaches the field, which refuses it as an overflow.
    return int(text) if len(text) <= 4000 else Decimal(text)


def _json_float(text: str) -> float | Decimal:
    v = float(text)
    return v if v not in (float("inf"), float("-inf")) else Decimal(text)  # 1e400: overflow, named as such


def _json_loads(text: str) -> Any:
    return json.loads(
        text,
        parse_constant=_keep_constant,
        object_pairs_hook=_unique_keys,
        parse_int=_json_int,
        parse_float=_json_float,
    )


def _read_json(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    try:
        data = _json_loads(_text_of(p))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ReadError(str(p), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ReadError(str(p), "JSON nested too deeply to be a list of records; refused") from None
    yield from _objects(p, data, default_kind)


def _keep_constant(name: str) -> str:
    # NaN / Infinity are not JSON; keep them as text so the one field is reported, not the file.
    return name


def _read_jsonl(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    with p.open("rb") as fh:
        head = fh.read(4)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
        codecs.BOM_UTF32_LE
    )
    # UTF-16 (with its BOM) strictly: surrogateescape does not apply to it; a damaged line fails the file.
    enc, errors = ("utf-16", "strict") if utf16 else ("utf-8-sig", "surrogateescape")
    try:
        yield from _jsonl_lines(p, default_kind, enc, errors)
    except UnicodeDecodeError as exc:
        raise ReadError(str(p), f"UTF-16 文本中有无法解码的字节 not UTF-16 text: {exc}") from None


def _jsonl_lines(p: Path, default_kind: str | None, enc: str, errors: str) -> Iterator[ReadItem]:
    with p.open("r", encoding=enc, errors=errors) as fh:
        line_no = 0
        for line in fh:
            line_no += 1
            if not line.strip():
                yield BlankRow
                continue
            src = SourceRef(file=str(p), row=line_no)
            if bad_text(line.rstrip("\n")) and _has_surrogate(line):
                yield RecordError(source=src, message="line is not UTF-8 text")
                continue
            try:
                item = _json_loads(line)
            except (json.JSONDecodeError, ValueError) as exc:
                yield RecordError(source=src, message=f"not valid JSON: {exc}")
                continue
            except RecursionError:
                yield RecordError(source=src, message="JSON nested too deeply; refused")
                continue
            yield _object_record(src, item, default_kind)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _read_yaml(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    from engine.records.yamlsource import YamlSourceError, load_record_documents

    try:
        docs = load_record_documents(_text_of(p), str(p))
    except UnicodeDecodeError as exc:
        raise ReadError(str(p), f"not UTF-8 text: {exc}") from None
    except YamlSourceError as exc:
        raise ReadError(
            str(p), exc.message if exc.line is None else f"line {exc.line}: {exc.message}"
        ) from None
    for n, doc in enumerate(docs, start=1):
        items = doc.data
        where = f"YAML document {n}: " if len(docs) > 1 else ""
        if items is None and len(docs) > 1:
            continue  # an empty document between two '---'
        if isinstance(items, dict) and "records" in items:
            items = items["records"]
            base: tuple = ("records",)
        else:
            base = ()
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            if len(docs) == 1:
                raise ReadError(str(p), "expected a list of records (or a mapping with a 'records' list)")
            # One document that holds no records costs that document; the others are read.
            yield RecordError(
                source=SourceRef(file=str(p), row=doc.line_of(())),
                message=f"{where}expected a list of records (or a mapping with a 'records' list), "
                f"got {_type_name(items)}",
            )
            continue
        for i, item in enumerate(items):
            line = doc.line_of(base + (i,))
            src = SourceRef(file=str(p), row=line)
            yield _object_record(src, item, default_kind, "a mapping")
