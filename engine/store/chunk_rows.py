"""A chunk's rows, prepared before the write transaction: record versions' texts and hashes, finding
rows (a sentence shared by many findings named, not repeated), the run's messages. Only the ids the
database gives (record versions, check versions, shared sentences) are left for the transaction."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.policy.terms import VERSION_FIELDS, SharedText
from engine.records.model import Record, SourceRef
from engine.store.codec import clean_text, details_json, encode_value, version_texts
from engine.store.database import StoreError
from engine.store.finding_view import MAX_QUIET_PER_RECORD


class ChunkLike(Protocol):
    """What the store reads of a chunk (engine.pipeline.stream.ChunkResult): the store knows no evaluation."""

    index: int
    records: list[Record]
    errors: list[Any]
    file_problems: list[Any]
    warnings: list[str]
    findings: list[Any]
    notices: list[Any]
    skipped: bool
    parts: list[tuple[Any, ...]] | None


@dataclass
class PreparedChunk:
    """A chunk's rows as far as they can be built outside the write transaction."""

    index: int
    records: list[tuple]  # ((kind, id, period), content hash, name, values JSON, file, sheet, row)
    # (record position, check version key, shared sentence or None, (status, value, …, details))
    findings: list[tuple]
    # record position -> (as of, [(check version key, shared sentence, value, threshold)]): its plain
    # not-applicable findings, summarised on its run_records row (engine.store.finding_view)
    quiet: dict[int, tuple[Any, list[tuple]]]
    messages: tuple[tuple[str, ...], list[tuple]]
    counts: tuple[int, int, int, int]  # records, rejected, file problems, findings


def prepare_chunk(
    chunk: ChunkLike, run_id: int, period: Callable[[Record], str], iso: bool, summarise: bool = True
) -> PreparedChunk:
    """The chunk's rows, minus the ids only the database can give (record versions, check versions)."""
    records = []
    by_source: dict[tuple, int] = {}
    by_id: dict[tuple[str, str], int | None] = {}
    seen: set[tuple[str, str, str]] = set()
    for pos, r in enumerate(chunk.records):
        key = (r.kind, r.id, period(r))
        if key in seen:
            raise StoreError(f"record {r.id} ({r.kind}) appears twice in one chunk")
        seen.add(key)
        src = r.source
        content_hash, values = version_texts(r.kind, r.id, r.name, r.values)
        records.append(
            (
                key,
                content_hash,
                clean_text(r.name),
                values,
                clean_text(src.file),
                clean_text(src.sheet, 200),
                src.row,
            )
        )
        # Keyed on plain values: hashing and comparing SourceRef models per finding was a hot spot.
        by_source[(r.kind, r.id, src.file, src.sheet, src.row)] = pos
        by_id[(r.kind, r.id)] = None if (r.kind, r.id) in by_id else pos  # None: ambiguous
    days: dict[dt.date, object] = {}
    findings = []
    quiet: dict[int, tuple[Any, list[tuple]]] = {}
    if chunk.parts is not None:  # FindingParts from the evaluator: the record is the object itself
        where = {id(r): at for at, r in enumerate(chunk.records)}
        last_rec: Any = None  # a record's parts come together: its place looked up once
        at: Any = -1
        for (
            rec,
            key,
            status,
            value,
            threshold,
            target,
            as_of,
            message,
            missing,
            review,
            extras,
        ) in chunk.parts:
            if rec is not last_rec:
                found = where.get(id(rec))
                if found is None:
                    raise StoreError(
                        f"finding for record {rec.id} ({rec.kind}) matches no record of chunk {chunk.index}"
                    )
                at, last_rec = found, rec
            day = days.get(as_of)
            if day is None:
                day = days[as_of] = as_of.isoformat() if iso else as_of
            shared = message if type(message) is SharedText else None
            if (
                summarise
                and status == "not_applicable"
                and shared is not None
                and target is None
                and not missing
                and not review
                and len(extras) == 1
                and not extras.get("review_reasons")
            ):  # plain: straight into the record's summary (split_quiet's test, without the row built first)
                got = quiet.get(at)
                if got is None:
                    quiet[at] = (day, [(key, shared, encode_value(value), encode_value(threshold))])
                    continue
                if got[0] == day and len(got[1]) < MAX_QUIET_PER_RECORD:
                    got[1].append((key, shared, encode_value(value), encode_value(threshold)))
                    continue
            findings.append(
                (
                    at,
                    key,
                    shared,
                    (
                        status,
                        encode_value(value),
                        encode_value(threshold),
                        encode_value(target),
                        day,
                        None if shared is not None else clean_text(message),
                        "、".join(missing) if missing else None,
                        int(review),
                        None
                        if len(extras) == 1 and not extras.get("review_reasons")
                        else details_json(extras),
                    ),
                )
            )
    last: tuple[Any, Any, Any] = (None, None, None)  # a record's findings come together: its place once
    for f in chunk.findings:
        d = f.__dict__  # attribute access through pydantic's __getattr__ chain costs per field
        src = d["source"]
        if src is not None and src is last[0] and d["record_id"] == last[1]:
            at = last[2]
        else:
            at = (
                by_source.get((d["kind"], d["record_id"], src.file, src.sheet, src.row))
                if isinstance(src, SourceRef)
                else None
            )
            if at is None:
                at = by_id.get((d["kind"], d["record_id"]))
            if at is None:
                raise StoreError(
                    f"finding for record {f.record_id} ({f.kind}) matches no record of chunk {chunk.index}"
                )
            last = (src, d["record_id"], at)
        as_of = d["as_of"]
        day = days.get(as_of)
        if day is None:
            day = days[as_of] = as_of.isoformat() if iso else as_of
        missing = d["missing_fields"]
        message = d["message"]
        shared = message if type(message) is SharedText else None
        findings.append(
            (
                at,
                _static_key(d),
                shared,
                (
                    d["status"],
                    encode_value(d["value"]),
                    encode_value(d["threshold"]),
                    encode_value(d["target"]),
                    day,
                    None if shared is not None else clean_text(message),
                    "、".join(missing) if missing else None,
                    int(d["review"]),
                    details_json(d),
                ),
            )
        )
    n_findings = len(findings) + sum(len(items) for _, items in quiet.values())
    counts = (len(chunk.records), len(chunk.errors), len(chunk.file_problems), n_findings)
    if summarise and chunk.parts is None:  # findings as models (one process): summarised once built as rows
        findings, quiet = split_quiet(findings)
    return PreparedChunk(
        chunk.index, records, findings, quiet, _dict_rows(_message_rows(chunk, run_id)), counts
    )


def split_quiet(findings: list[tuple]) -> tuple[list[tuple], dict[int, tuple[Any, list[tuple]]]]:
    """The findings that need a row, and per record its plain not-applicable ones.

    Plain: not applicable, a shared sentence, and no target, missing fields, review or details; all
    of one record's as of one date (a different date keeps its row). Nothing else is dropped: value
    and threshold go into the summary, and the view gives every one of them back.
    """
    rows: list[tuple] = []
    quiet: dict[int, tuple[Any, list[tuple]]] = {}
    for f in findings:
        at, key, shared, (status, value, threshold, target, day, _, missing, review, details) = f
        if (
            status == "not_applicable"
            and shared is not None
            and target is None
            and missing is None
            and not review
            and details is None
        ):
            got = quiet.get(at)
            if got is None:
                quiet[at] = (day, [(key, shared, value, threshold)])
                continue
            if got[0] == day and len(got[1]) < MAX_QUIET_PER_RECORD:
                got[1].append((key, shared, value, threshold))
                continue
        rows.append(f)
    return rows, quiet


def _message_rows(chunk: ChunkLike, run_id: int) -> list[dict]:
    # Every row carries every column: one executemany needs uniform keys (a chunk can hold
    # rejected rows and file problems together).
    base = {
        "run_id": run_id,
        "chunk": chunk.index,
        "file": None,
        "sheet": None,
        "row": None,
        "record_id": None,
        "field": None,
    }
    rows = []
    for e in chunk.errors:
        rows.append(
            base
            | {
                "category": "rejected",
                "file": clean_text(e.source.file),
                "sheet": clean_text(e.source.sheet, 200),
                "row": e.source.row,
                "record_id": clean_text(e.record_id, 200),
                "field": clean_text(e.field, 200),
                "message": clean_text(e.message),
            }
        )
    for p in chunk.file_problems:
        rows.append(
            base | {"category": "file_problem", "file": clean_text(p.file), "message": clean_text(p.message)}
        )
    for w in chunk.warnings:
        rows.append(base | {"category": "warning", "message": clean_text(w)})
    for n in chunk.notices:
        rows.append(
            base
            | {
                "category": "notice",
                "file": clean_text(n.source.file) if n.source else None,
                "sheet": clean_text(n.source.sheet, 200) if n.source else None,
                "row": n.source.row if n.source else None,
                "record_id": clean_text(n.record_id, 200),
                "message": clean_text(n.message),
            }
        )
    return rows


def _dict_rows(rows: list[dict]) -> tuple[tuple[str, ...], list[tuple]]:
    """Uniform dict rows (no dates) as (columns, tuples)."""
    if not rows:
        return (), []
    cols = tuple(rows[0])
    return cols, [tuple(r[c] for c in cols) for r in rows]


_STATIC_FIELDS = VERSION_FIELDS  # the Finding fields a check version determines (its key in FindingParts)


_static_key = operator.itemgetter(*_STATIC_FIELDS)  # a finding's __dict__ -> its check version's key
