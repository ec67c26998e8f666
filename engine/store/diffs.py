"""Comparing two runs: the findings that changed, and the records only one of them judged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from engine.store.codec import decode_value
from engine.store.finding_reads import COMPARED, FindingChange, FindingRow, _finding_query, _row
from engine.store.finding_view import FINDING_VIEW, by_ids
from engine.store.models import CheckKey, CheckVersion, RecordVersion, RunRecord
from engine.store.run_reads import _get_run
from engine.store.store import Store


def _judgements(s: Any, run_id: int) -> dict[tuple[str, str, str, str], tuple]:
    """(kind, record, period, check) -> (compared fields..., finding id): just what a diff compares."""
    f, r, ck, cv = (FINDING_VIEW, RecordVersion.__table__, CheckKey.__table__, CheckVersion.__table__)
    q = (
        select(
            r.c.kind,
            r.c.record_id,
            r.c.period,
            ck.c.check_id,
            f.c.status,
            f.c.value,
            f.c.threshold,
            cv.c.check_version,
            f.c.id,
        )
        .join(r, r.c.id == f.c.record_version_id)
        .join(ck, ck.c.id == f.c.check_ref)
        .join(cv, cv.c.id == f.c.version_ref)
        .where(f.c.run_id == run_id)
    )
    return {
        (k, rid, per, cid): (st, decode_value(v), decode_value(t), cv, fid)
        for k, rid, per, cid, st, v, t, cv, fid in s.execute(q.execution_options(yield_per=20_000))
    }


def _rows_by_id(s: Any, ids: list[int]) -> dict[int, FindingRow]:
    out: dict[int, FindingRow] = {}
    for i in range(0, len(ids), 500):
        for q in by_ids(_finding_query(), ids[i : i + 500]):
            for m in s.execute(q).mappings():
                out[m["id"]] = _row(m)
    return out


RecordKey = tuple[str, str, str]  # (kind, record id, period)


class RunDiff(BaseModel):
    """What changed from run A to run B.

    ``changes`` covers the records both runs judged, unless ``all_records`` was asked for: then also
    every finding of the records only one run judged (all "added" or "removed"). Those records are
    counted apart either way, so a partial re-run does not bury three real changes under a thousand
    findings of records it simply did not read.
    """

    run_a: int
    run_b: int
    all_records: bool
    changes: list[FindingChange]
    only_in_a: list[RecordKey]  # records run A judged and run B did not
    only_in_b: list[RecordKey]
    n_common: int  # records both runs judged


def _records(s: Any, run_id: int) -> set[RecordKey]:
    rr, r = RunRecord.__table__, RecordVersion.__table__
    q = (
        select(r.c.kind, r.c.record_id, r.c.period)
        .join(rr, rr.c.record_version_id == r.c.id)
        .where(rr.c.run_id == run_id)
    )
    return {(k, rid, per) for k, rid, per in s.execute(q)}


def compare_runs(store: Store, run_a: int, run_b: int, *, all_records: bool = False) -> RunDiff:
    """The findings that changed from run A to run B (by record and check, whatever the record version),
    and the records only one of them judged (see RunDiff)."""
    with store.session() as s:
        _get_run(s, run_a, store)
        _get_run(s, run_b, store)
        recs_a, recs_b = _records(s, run_a), _records(s, run_b)
    only_a, only_b = sorted(recs_a - recs_b), sorted(recs_b - recs_a)
    keep = None if all_records else recs_a & recs_b
    return RunDiff(
        run_a=run_a,
        run_b=run_b,
        all_records=all_records,
        changes=_changes(store, run_a, run_b, keep),
        only_in_a=only_a,
        only_in_b=only_b,
        n_common=len(recs_a & recs_b),
    )


def diff_runs(store: Store, run_a: int, run_b: int) -> list[FindingChange]:
    """Every finding of run B that differs from run A, also those of records only one run judged
    (``compare_runs(..., all_records=True).changes``)."""
    return compare_runs(store, run_a, run_b, all_records=True).changes


def _changes(store: Store, run_a: int, run_b: int, keep: set[RecordKey] | None) -> list[FindingChange]:
    """Findings of run B that differ from run A, of the records in `keep` (None: every record).

    Only the compared fields of both runs are held in memory; whole rows are read for the changes.
    """
    with store.session() as s:
        before, after = _judgements(s, run_a), _judgements(s, run_b)
        if keep is not None:
            before = {k: v for k, v in before.items() if k[:3] in keep}
            after = {k: v for k, v in after.items() if k[:3] in keep}
        pairs: list[tuple[str, tuple, int | None, int | None, list[str]]] = []
        for key, b in after.items():
            a = before.get(key)
            if a is None:
                pairs.append(("added", key, None, b[-1], []))
            else:
                fields = [name for name, x, y in zip(COMPARED, a, b, strict=False) if x != y]
                if fields:
                    pairs.append(("changed", key, a[-1], b[-1], fields))
        pairs += [("removed", key, a[-1], None, []) for key, a in before.items() if key not in after]
        rows = _rows_by_id(s, [i for p in pairs for i in p[2:4] if i is not None])
    out = []
    for change, (kind, rid, period, cid), ia, ib, fields in sorted(pairs, key=lambda p: p[1]):
        old, new = rows.get(ia) if ia else None, rows.get(ib) if ib else None
        ref = new or old
        assert ref is not None
        out.append(
            FindingChange(
                change=change,  # type: ignore[arg-type]
                kind=kind,
                record_id=rid,
                period=period,
                record_name=ref.record_name,
                check_id=cid,
                check_title=ref.check_title,
                before=old,
                after=new,
                fields=fields,
            )
        )
    return out
