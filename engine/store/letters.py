"""Letter numbers and the record of issued letters (used by the letters renderer).

A number looks like 菏城审〔2026〕第001号: a prefix, the year, and a sequence that runs per prefix and
year. The sequence is advanced by one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING), so two
processes asking at once get different numbers on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.store.database import StoreError
from engine.store.models import Letter, LetterSequence, RecordVersion, RunRecord
from engine.store.store import Store

DEFAULT_PREFIX = "菏城审"
_NUMBER = re.compile(r"^(?P<prefix>.+)〔(?P<year>\d{4})〕第(?P<seq>\d+)号$")


def format_letter_number(prefix: str, year: int, sequence: int) -> str:
    """'菏城审', 2026, 1 -> '菏城审〔2026〕第001号'."""
    return f"{prefix}〔{year}〕第{sequence:03d}号"


def parse_letter_number(number: str) -> tuple[str, int, int]:
    m = _NUMBER.match(number)
    if not m:
        raise ValueError(f"not a letter number: {number!r}")
    return m.group("prefix"), int(m.group("year")), int(m.group("seq"))


def _next(conn: Connection | Session, prefix: str, year: int) -> int:
    dialect = conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name
    ins = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if ins is None:
        raise StoreError(f"letter numbers are not supported on {dialect}")
    t = LetterSequence.__table__
    stmt = (ins(t).values(prefix=prefix, year=year, last=1)
            .on_conflict_do_update(index_elements=[t.c.prefix, t.c.year], set_={"last": t.c.last + 1})
            .returning(t.c.last))
    return int(conn.execute(stmt).scalar_one())


def next_letter_number(target: Store | Session | Connection, prefix: str = DEFAULT_PREFIX,
                       year: int | None = None) -> str:
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


def _record_version(s: Session, run_id: int, record_id: str, kind: str | None, period: str | None) -> RecordVersion:
    q = (select(RecordVersion).join(RunRecord, RunRecord.record_version_id == RecordVersion.id)
         .where(RunRecord.run_id == run_id, RecordVersion.record_id == record_id))
    if kind is not None:
        q = q.where(RecordVersion.kind == kind)
    if period is not None:
        q = q.where(RecordVersion.period == period)
    found = s.execute(q).scalars().all()
    if not found:
        raise StoreError(f"record {record_id} was not judged by run {run_id}")
    if len(found) > 1:
        raise StoreError(f"record {record_id} is ambiguous in run {run_id} "
                         f"({', '.join(f'{v.kind} {v.period}'.strip() for v in found)}): give kind and period")
    return found[0]


def record_letter(target: Store | Session, *, number: str, run_id: int, record_id: str, format: str,
                  sha256: str, pack_fingerprint: str, kind: str | None = None, period: str | None = None,
                  path: str | None = None) -> LetterRecord:
    """Record an issued letter: its number, the record version the run judged, the format, the file's hash.

    One number may be recorded once per format (the same letter as HTML, PDF, DOCX...).
    """
    def write(s: Session) -> LetterRecord:
        v = _record_version(s, run_id, record_id, kind, period)
        letter = Letter(number=number, run_id=run_id, record_version_id=v.id or 0, format=format, sha256=sha256,
                        pack_fingerprint=pack_fingerprint, path=path, created_at=dt.datetime.now(dt.UTC))
        s.add(letter)
        try:
            s.flush()
        except IntegrityError as exc:
            raise StoreError(f"letter {number} ({format}) is already recorded") from exc
        return LetterRecord(id=letter.id or 0, number=number, run_id=run_id, record_version_id=letter.record_version_id,
                            record_id=v.record_id, kind=v.kind, format=format, sha256=sha256,
                            pack_fingerprint=pack_fingerprint, path=path, created_at=letter.created_at)

    if isinstance(target, Store):
        with target.write_session() as s:
            return write(s)
    return write(target)


def letters_for_record(store: Store, record_id: str) -> list[LetterRecord]:
    """Every letter recorded for any version of the record, oldest first."""
    with store.session() as s:
        rows = s.execute(select(Letter, RecordVersion).join(RecordVersion, RecordVersion.id == Letter.record_version_id)
                         .where(RecordVersion.record_id == record_id).order_by(Letter.id)).all()
        return [LetterRecord(id=le.id or 0, number=le.number, run_id=le.run_id, record_version_id=le.record_version_id,
                             record_id=v.record_id, kind=v.kind, format=le.format, sha256=le.sha256,
                             pack_fingerprint=le.pack_fingerprint, path=le.path, created_at=le.created_at)
                for le, v in rows]
