"""Reading the store's findings: one row per finding with its record and check, and what changes between two."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, select

from engine.store.codec import STATIC_COLUMNS, decode_details, decode_value
from engine.store.finding_view import FINDING_VIEW
from engine.store.models import CheckKey, CheckVersion, RecordVersion, RunRecord, SharedMessage
from engine.store.run_reads import _get_run
from engine.store.store import Store


class FindingRow(BaseModel):
    """A stored finding with the record it judged and where that record was read from."""

    run_id: int
    kind: str
    record_id: str
    period: str
    record_name: str | None
    record_version: int
    record_version_id: int
    file: str | None
    sheet: str | None
    row: int | None
    check_id: str
    check_version: str
    pack: str
    measure: int
    measure_title: str
    check_title: str
    nature: str
    status: str
    value: bool | Decimal | None
    threshold: bool | Decimal | None
    target: Decimal | None
    unit: str | None
    op: str
    due: dt.date | None
    as_of: dt.date
    message: str
    missing_fields: str | None
    review: bool = False
    details: dict[str, Any] = {}  # review_reasons, basis, reported, counted, baseline… (codec.decode_details)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a finding is about, across runs and record versions."""
        return (self.kind, self.record_id, self.period, self.check_id)


def _finding_query() -> Select[Any]:
    f, r, rr = FINDING_VIEW, RecordVersion.__table__, RunRecord.__table__
    ck, cv, sm = CheckKey.__table__, CheckVersion.__table__, SharedMessage.__table__
    return (
        select(
            f,
            ck.c.check_id,
            *(cv.c[k] for k in STATIC_COLUMNS),
            r.c.kind,
            r.c.record_id.label("rec_id"),
            r.c.period,
            r.c.name.label("record_name"),
            r.c.version.label("record_version"),
            rr.c.file,
            rr.c.sheet,
            rr.c.row,
            sm.c.text.label("shared_message"),
        )
        .join(ck, ck.c.id == f.c.check_ref)
        .join(cv, cv.c.id == f.c.version_ref)
        .outerjoin(sm, sm.c.id == f.c.message_ref)
        .join(r, r.c.id == f.c.record_version_id)
        .outerjoin(rr, (rr.c.run_id == f.c.run_id) & (rr.c.record_version_id == f.c.record_version_id))
    )


def _row(m: Any) -> FindingRow:
    target = decode_value(m["target"])
    return FindingRow(
        run_id=m["run_id"],
        kind=m["kind"],
        record_id=m["rec_id"],
        period=m["period"],
        record_name=m["record_name"],
        record_version=m["record_version"],
        record_version_id=m["record_version_id"],
        file=m["file"],
        sheet=m["sheet"],
        row=m["row"],
        check_id=m["check_id"],
        check_version=m["check_version"],
        pack=m["pack"],
        measure=m["measure"],
        measure_title=m["measure_title"],
        check_title=m["check_title"],
        nature=m["nature"],
        status=m["status"],
        value=decode_value(m["value"]),
        threshold=decode_value(m["threshold"]),
        target=target if isinstance(target, Decimal) else None,
        unit=m["unit"],
        op=m["op"],
        due=m["due"],
        as_of=m["as_of"],
        message=m["message"] if m["message"] is not None else m["shared_message"],
        missing_fields=m["missing_fields"],
        review=bool(m["review"]),
        details=decode_details(m["details"]),
    )


def run_findings(store: Store, run_id: int, batch: int = 5000) -> Iterator[FindingRow]:
    """A run's findings in record order, streamed."""
    with store.session() as s:
        _get_run(s, run_id, store)
        f, r = FINDING_VIEW, RecordVersion.__table__
        cv, ck = CheckVersion.__table__, CheckKey.__table__
        q = (
            _finding_query()
            .where(f.c.run_id == run_id)
            .order_by(r.c.kind, r.c.record_id, r.c.period, cv.c.measure, ck.c.check_id)
        )
        for m in s.execute(q.execution_options(yield_per=batch)).mappings():
            yield _row(m)


# --- diff -----------------------------------------------------------------------------------------


class FindingChange(BaseModel):
    change: Literal["added", "removed", "changed"]
    kind: str
    record_id: str
    period: str
    record_name: str | None
    check_id: str
    check_title: str
    before: FindingRow | None
    after: FindingRow | None
    fields: list[str]  # what changed: status, value, threshold, check_version


COMPARED = ("status", "value", "threshold", "check_version")


def changed_fields(a: FindingRow, b: FindingRow) -> list[str]:
    return [k for k in COMPARED if getattr(a, k) != getattr(b, k)]
