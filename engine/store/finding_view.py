"""Every finding of a run, whether stored as a row or summarised on its record: the ``finding_rows`` view.

Most findings are not applicable and carry nothing of their own but a value and the check version's
threshold: a row each (five B-tree entries) was most of the time to store a run. A record's *plain*
not-applicable findings (a shared sentence, no target, no missing fields, no review, no details, one
as-of date) are kept on its ``run_records`` row instead, as JSON ``quiet``:
``[[checks.id, check_versions.id, shared_messages.id, value, threshold], ...]`` with ``quiet_as_of``.

The view (migration ``0007_quiet_findings``, one definition per dialect) unions the stored rows and
the summarised ones with the findings table's columns, so every reader reads one relation and every
finding stays retrievable by run, record and check. A summarised finding's ``id`` is negative and
derived from where it is kept (run, record version, place in the list), so it is stable and unique
and never collides with a stored row's.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Integer, MetaData, String, Table, Text, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB

from engine.store.models import RunRecord, StoredFinding

# Not SQLModel.metadata: the view must never be created as a table (the migrations create it).
_view_metadata = MetaData()

FINDING_VIEW = Table(
    "finding_rows",
    _view_metadata,
    Column("id", BigInteger, primary_key=True),
    Column("run_id", Integer),
    Column("record_version_id", Integer),
    Column("chunk", Integer),
    Column("check_ref", Integer),
    Column("version_ref", Integer),
    Column("status", String(20)),
    Column("value", Text),
    Column("threshold", Text),
    Column("target", Text),
    Column("as_of", Date),
    Column("message", Text),
    Column("message_ref", Integer),
    Column("missing_fields", Text),
    Column("review", Integer),
    Column("details", Text),
)

# The derived id packs (run, record version, place): these bounds keep it inside a signed 64-bit integer.
MAX_QUIET_PER_RECORD = 1023
MAX_QUIET_RUN = 1 << 21
MAX_QUIET_RECORD_VERSION = 1 << 32


def quiet_json(items: list[tuple[int, int, int | None, Any, Any]]) -> str:
    """The ``quiet`` column of one record: its plain not-applicable findings in stored order."""
    return _compact(items)


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def quiet_id(run_id: int, record_version_id: int, place: int) -> int:
    """The id the view gives the summarised finding at ``place`` (0-based) of a record's list."""
    return -((run_id << 42) | (record_version_id << 10) | place)


def can_summarise(run_id: int, record_version_id: int) -> bool:
    return run_id < MAX_QUIET_RUN and record_version_id < MAX_QUIET_RECORD_VERSION


def quiet_length(dialect: str, column: Any) -> Any:
    """How many findings a ``quiet`` summary holds, in SQL."""
    if dialect == "postgresql":
        return func.jsonb_array_length(cast(column, JSONB))
    return func.json_array_length(column)


def run_status_counts(conn: Any, run_id: int) -> dict[str, int]:
    """A run's findings by status: the rows counted, and the summarised ones by each summary's length
    (no expansion of the view)."""
    t, rr = StoredFinding.__table__, RunRecord.__table__
    counts: dict[str, int] = dict(
        conn.execute(select(t.c.status, func.count()).where(t.c.run_id == run_id).group_by(t.c.status)).all()
    )
    quiet = conn.execute(
        select(func.coalesce(func.sum(quiet_length(conn.dialect.name, rr.c.quiet)), 0)).where(
            rr.c.run_id == run_id, rr.c.quiet.is_not(None)
        )
    ).scalar_one()
    if quiet:
        counts["not_applicable"] = counts.get("not_applicable", 0) + int(quiet)
    return counts


def split_ids(ids: list[int]) -> tuple[list[int], dict[int, set[int]]]:
    """Finding ids as stored rows' ids, and summarised ones' record versions by run (from the derived id):
    SQLite cannot find a summarised finding by its derived id without expanding every summary, but it
    can by its run and record version."""
    rows: list[int] = []
    quiet: dict[int, set[int]] = {}
    for i in ids:
        if i >= 0:
            rows.append(i)
        else:
            n = -i
            quiet.setdefault(n >> 42, set()).add((n >> 10) & (MAX_QUIET_RECORD_VERSION - 1))
    return rows, quiet


def by_ids(query: Any, ids: list[int]) -> list[Any]:
    """``query`` (over FINDING_VIEW) narrowed to these ids, as queries each of which an index serves."""
    v = FINDING_VIEW
    rows, quiet = split_ids(ids)
    out = [query.where(v.c.id.in_(rows))] if rows else []
    for run_id, versions in quiet.items():
        out.append(
            query.where(
                v.c.run_id == run_id,
                v.c.record_version_id.in_(sorted(versions)),
                v.c.id.in_([i for i in ids if i < 0]),
            )
        )
    return out
