"""A record's identity: the text of its id, kind and name cells, and why a row has no usable one."""

from __future__ import annotations

import unicodedata
from typing import Any

from engine.records import coerce
from engine.records.catalog import Catalog

MAX_NAME = 500


def _identity_text(value: Any) -> tuple[str | None, str | None, list[str]]:
    """(text, None, invisible characters removed) for a usable id or name cell, (None, why, []) otherwise."""
    if value is None:
        return None, None, _NONE
    if type(value) is str:  # nearly every cell: coerce.to_text of a str, without its type checks
        text = value.strip() if value.isascii() else unicodedata.normalize("NFC", value).strip()
        why = coerce.bad_text(text)
        if why:
            return None, f"text {why}", _NONE
    elif type(value) is coerce.BadCell:
        return None, value.reason, _NONE
    else:
        try:
            text = coerce.to_text(value)
        except coerce.CoerceError as exc:
            return None, str(exc), _NONE
    if text.isascii():  # nearly every id: nothing invisible in ASCII
        return text, None, _NONE
    text, hidden = coerce.strip_invisible(text)
    return text.strip() if hidden else text, None, hidden


_NONE: list[str] = []  # shared, never appended to


def _kind_text(value: Any) -> str:
    return "" if type(value) is coerce.BadCell else coerce.strip_invisible(str(value))[0].strip()


def _identity_problem(
    kind: str | None,
    kind_key: str | None,
    kind_raw: Any,
    id_problem: str | None,
    rid_text: str | None,
    catalog: Catalog,
) -> tuple[str | None, str] | None:
    """(field, message) when the record has no usable kind and id: then the row gives no record."""
    if kind is None:
        if type(kind_raw) is coerce.BadCell:
            return kind_key, f"subject kind cell: {kind_raw.reason}"
        if kind_raw is not None:
            return kind_key, (
                f"unknown subject kind {_short(kind_raw)}; known: "
                + ", ".join(f"{k}/{s.label}" for k, s in catalog.kinds.items())
            )
        return "kind", "no subject kind: add a 类型 column or pass --kind"
    if id_problem is not None:
        return "id", f"record id {id_problem}"
    if rid_text is None or rid_text == "":
        return "id", "missing record id (编号)"
    if len(rid_text) > 200:
        return "id", "record id longer than 200 characters"
    return None


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, int) and value.bit_length() > 1000:  # repr() would hit int's digit limit
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
