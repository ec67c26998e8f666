"""Letter numbers and the record of issued letters (used by the letters renderer).

A number is a prefix, the year, and a sequence that runs per prefix and year. The sequence is advanced
by one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING), so two processes asking at once get
different numbers on SQLite and PostgreSQL alike.

``issue_letter`` is what the renderer uses: numbers in the GB/T 9704 style (菏城审〔2026〕2号), keyed by
record version and a fingerprint of the judgement, so the same judgement keeps its number however often
and in whatever format it is printed, and taken inside the transaction that records the files, so a
letter that could not be written (disk full) uses up no number. ``next_letter_number`` /
``record_letter`` are the older low-level calls (numbers in the 菏城审〔2026〕第001号 style).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from engine.store.database import StoreError
from engine.store.models import Letter, LetterJudgement, LetterSequence, RecordVersion, Run, RunRecord
from engine.store.store import Store

DEFAULT_PREFIX = "菏城审"
_NUMBER = re.compile(r"^(?P<prefix>.+)〔(?P<year>\d{4})〕第?(?P<seq>\d+)号$")


def format_letter_number(prefix: str, year: int, sequence: int) -> str:
    """'菏城审', 2026, 1 -> '菏城审〔2026〕第001号'."""
    return f"{prefix}〔{year}〕第{sequence:03d}号"


def gb_letter_number(prefix: str, year: int, sequence: int) -> str:
    """'菏城审', 2026, 2 -> '菏城审〔2026〕2号' (GB/T 9704-2012: no 第, no leading zeros)."""
    return f"{prefix}〔{year}〕{sequence}号"


def parse_letter_number(number: str) -> tuple[str, int, int]:
    m = _NUMBER.match(number)
    if not m:
        raise ValueError(f"not a letter number: {number!r}")
    return m.group("prefix"), int(m.group("year")), int(m.group("seq"))


def _next(conn: Connection | Session, prefix: str, year: int) -> int:
    dialect = conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name
    t = LetterSequence.__table__
    ins: sqlite.Insert | postgresql.Insert  # both dialects' inserts have on_conflict_do_update
    if dialect == "sqlite":
        ins = sqlite.insert(t)
    elif dialect == "postgresql":
        ins = postgresql.insert(t)
    else:
        raise StoreError(f"letter numbers are not supported on {dialect}")
    stmt = (
        ins.values(prefix=prefix, year=year, last=1)
        .on_conflict_do_update(index_elements=[t.c.prefix, t.c.year], set_={"last": t.c.last + 1})
        .returning(t.c.last)
    )
    return int(conn.execute(stmt).scalar_one())


def next_letter_number(
    target: Store | Session | Connection, prefix: str = DEFAULT_PREFIX, year: int | None = None
) -> str:
    """Take the next number for prefix and year ('菏城审〔2026〕第001号').

    With a Store the number is taken in its own committed transaction (never handed out twice, even if
    the letter then fails to render: a gap is better than a duplicate). With a Session or Connection it
    is taken inside the caller's transaction; on SQLite use ``store.write_session()`` so that
    transaction starts as a write and waits its turn instead of failing under concurrency.
    """
    if not prefix or "〔" in prefix:
        raise ValueError(f"bad letter prefix {prefix!r}")
    year = year if year is not None else dt.date.today().year
    if isinstance(target, Store):
        with target.write() as conn:
            return format_letter_number(prefix, year, _next(conn, prefix, year))
    return format_letter_number(prefix, year, _next(target, prefix, year))


class LetterRecord(BaseModel):
    id: int
    number: str
    run_id: int
    record_version_id: int
    record_id: str
    kind: str
    format: str
    sha256: str
    pack_fingerprint: str
    path: str | None
    created_at: dt.datetime


def _record_version(
    s: Session, run_id: int, record_id: str, kind: str | None, period: str | None
) -> RecordVersion:
    q = (
        select(RecordVersion)
        .join(RunRecord, col(RunRecord.record_version_id) == col(RecordVersion.id))
        .where(col(RunRecord.run_id) == run_id, col(RecordVersion.record_id) == record_id)
    )
    if kind is not None:
        q = q.where(col(RecordVersion.kind) == kind)
    if period is not None:
        q = q.where(col(RecordVersion.period) == period)
    found = s.execute(q).scalars().all()
    if not found:
        raise StoreError(f"record {record_id} was not judged by run {run_id}")
    if len(found) > 1:
        raise StoreError(
            f"record {record_id} is ambiguous in run {run_id} "
            f"({', '.join(f'{v.kind} {v.period}'.strip() for v in found)}): give kind and period"
        )
    return found[0]


def record_letter(
    target: Store | Session,
    *,
    number: str,
    run_id: int,
    record_id: str,
    format: str,
    sha256: str,
    pack_fingerprint: str,
    kind: str | None = None,
    period: str | None = None,
    path: str | None = None,
) -> LetterRecord:
    """Record an issued letter: its number, the record version the run judged, the format, the file's hash.

    One number may be recorded once per format (the same letter as HTML, PDF, DOCX...).
    """

    def write(s: Session) -> LetterRecord:
        v = _record_version(s, run_id, record_id, kind, period)
        letter = Letter(
            number=number,
            run_id=run_id,
            record_version_id=v.id or 0,
            format=format,
            sha256=sha256,
            pack_fingerprint=pack_fingerprint,
            path=path,
            created_at=dt.datetime.now(dt.UTC),
        )
        s.add(letter)
        try:
            s.flush()
        except IntegrityError as exc:
            raise StoreError(f"letter {number} ({format}) is already recorded") from exc
        return LetterRecord(
            id=letter.id or 0,
            number=number,
            run_id=run_id,
            record_version_id=letter.record_version_id,
            record_id=v.record_id,
            kind=v.kind,
            format=format,
            sha256=sha256,
            pack_fingerprint=pack_fingerprint,
            path=path,
            created_at=letter.created_at,
        )

    if isinstance(target, Store):
        with target.write_session() as s:
            return write(s)
    return write(target)


def letters_for_record(store: Store, record_id: str) -> list[LetterRecord]:
    """Every letter recorded for any version of the record, oldest first."""
    with store.session() as s:
        rows = s.execute(
            select(Letter, RecordVersion)
            .join(RecordVersion, col(RecordVersion.id) == col(Letter.record_version_id))
            .where(col(RecordVersion.record_id) == record_id)
            .order_by(col(Letter.id))
        ).all()
        return [
            LetterRecord(
                id=le.id or 0,
                number=le.number,
                run_id=le.run_id,
                record_version_id=le.record_version_id,
                record_id=v.record_id,
                kind=v.kind,
                format=le.format,
                sha256=le.sha256,
                pack_fingerprint=le.pack_fingerprint,
                path=le.path,
                created_at=le.created_at,
            )
            for le, v in rows
        ]


# --- numbers keyed by judgement ------------------------------------------------------------------


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f").rstrip("0")
    return str(v)


def judgement_fingerprint(findings: Iterable[Any]) -> str:
    """sha256 of each finding's check, version, status, value, threshold and review flag (order-free).

    Takes anything with those attributes (engine.evaluation.findings.Finding). The same judgement gives
    the same fingerprint whatever else changed (wording of the rule text, the date printed).
    """
    items = sorted(
        [
            f.check,
            f.check_version,
            f.status,
            _plain(f.value),
            _plain(f.threshold),
            bool(getattr(f, "review", False)),
        ]
        for f in findings
    )
    return hashlib.sha256(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


class LetterIssue:
    """A number being issued: record each file written with it; nothing is kept unless the block ends."""

    def __init__(
        self,
        session: Session,
        number: str,
        reused: bool,
        record_version_id: int,
        run_id: int,
        pack_fingerprint: str,
    ):
        self.session = session
        self.number = number
        self.reused = reused
        self.record_version_id = record_version_id
        self.run_id = run_id
        self.pack_fingerprint = pack_fingerprint

    def record(self, format: str, sha256: str, path: str | None) -> None:
        """Register the file; printing the same letter again in a format updates its row."""
        s = self.session
        row = s.execute(
            select(Letter).where(col(Letter.number) == self.number, col(Letter.format) == format)
        ).scalar_one_or_none()
        now = dt.datetime.now(dt.UTC)
        if row is None:
            s.add(
                Letter(
                    number=self.number,
                    run_id=self.run_id,
                    record_version_id=self.record_version_id,
                    format=format,
                    sha256=sha256,
                    pack_fingerprint=self.pack_fingerprint,
                    path=path,
                    created_at=now,
                )
            )
        else:
            row.run_id, row.record_version_id, row.sha256, row.path = (
                self.run_id,
                self.record_version_id,
                sha256,
                path,
            )
            row.pack_fingerprint, row.created_at = self.pack_fingerprint, now
        s.flush()


@contextmanager
def issue_letter(
    store: Store,
    *,
    prefix: str,
    year: int,
    run_id: int,
    record_id: str,
    judgement: str,
    pack_fingerprint: str,
    kind: str | None = None,
    period: str | None = None,
) -> Iterator[LetterIssue]:
    """The number of this judgement of the record (reused if it has one, else the next of prefix/year).

    Everything happens in one write transaction, committed when the block ends: if writing the files
    fails (disk full), the sequence is not advanced and no number is used up.
    """
    if not prefix or "〔" in prefix:
        raise ValueError(f"bad letter prefix {prefix!r}")
    with store.write_session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in {store.display}")
        if run.finished_at is None:
            raise StoreError(
                f"评价批次 {run_id} 尚未完成 (run {run_id} is not finished); letters cite finished runs only"
            )
        v = _record_version(s, run_id, record_id, kind, period)
        existing = s.execute(
            select(LetterJudgement).where(
                col(LetterJudgement.record_version_id) == v.id,
                col(LetterJudgement.judgement) == judgement,
                col(LetterJudgement.prefix) == prefix,
            )
        ).scalar_one_or_none()
        if existing is not None:
            issue = LetterIssue(s, existing.number, True, v.id or 0, run_id, pack_fingerprint)
        else:
            number = gb_letter_number(prefix, year, _next(s, prefix, year))
            s.add(
                LetterJudgement(
                    number=number,
                    prefix=prefix,
                    year=year,
                    record_version_id=v.id or 0,
                    judgement=judgement,
                    run_id=run_id,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            s.flush()
            issue = LetterIssue(s, number, False, v.id or 0, run_id, pack_fingerprint)
        yield issue
