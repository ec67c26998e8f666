"""The writer of one run: one transaction per chunk, then finish.

A chunk's records, findings, messages and its ``run_chunks`` row are committed together, so after a
crash the committed chunks are whole and ``--resume`` skips exactly those.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from engine.policy.policy import Policy
from engine.records.model import Record
from engine.store.chunk_rows import ChunkLike, PreparedChunk, prepare_chunk
from engine.store.codec import STATIC_COLUMNS, check_version_fingerprint, clean_text
from engine.store.database import StoreError
from engine.store.finding_view import can_summarise, quiet_json, run_status_counts
from engine.store.models import (
    CheckKey,
    CheckVersion,
    RecordVersion,
    Run,
    RunChunk,
    RunMessage,
    RunRecord,
    SharedMessage,
    StoredFinding,
)
from engine.store.store import Store

if TYPE_CHECKING:
    from engine.store.runs import RunSummary


_CHUNK_LOCK = 7_316_042_025  # PostgreSQL advisory lock: record versions are numbered one writer at a time
_IN_BATCH = 500  # ids per IN (...) look-up


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def yearly_kinds(policy: Policy) -> frozenset[str]:
    """Kinds that report once a year: the same subject has one record per year, not versions."""
    return frozenset(k for k, spec in policy.catalog.kinds.items() if spec.date_field == "report_year")


class StoreTarget(BaseModel):
    """A run being written, as another process needs it to open its own writer (``reopen_run``)."""

    url: str
    run_id: int


class RunWriter:
    """Writes one run chunk by chunk. Get one from ``begin_run``, ``resume_run`` or ``reopen_run``."""

    summarise_quiet = True  # plain not-applicable findings summarised on their record (tests compare both)

    def __init__(self, store: Store, run_id: int, policy: Policy, committed: frozenset[int] = frozenset()):
        self.store = store
        self.run_id = run_id
        self.committed = committed
        self._yearly = yearly_kinds(policy)
        self._refs: dict[tuple, tuple[int, int]] = {}  # check version -> (checks.id, check_versions.id)
        self._pending_refs: dict[tuple, tuple[int, int]] = {}
        self._messages: dict[str, int] = {}  # shared sentence -> shared_messages.id (committed)
        self._pending_messages: dict[str, int] = {}

    def hand_over(self) -> StoreTarget:
        """Where worker processes should write this run; this process's pooled connections are closed
        first, so workers forked afterwards inherit none (a connection must not cross a fork)."""
        self.store.engine.dispose()
        return StoreTarget(url=self.store.url, run_id=self.run_id)

    def period(self, record: Record) -> str:
        if record.kind in self._yearly:
            y = record.values.get("report_year")
            return "" if y is None else str(y)
        return ""

    def save_chunk(self, chunk: ChunkLike, lock: AbstractContextManager[Any] | None = None) -> None:
        """Store one chunk in one transaction (a skipped chunk was stored by the interrupted run).

        Everything that needs no database (hashes, JSON, finding rows) is prepared before the write
        transaction, which is held as briefly as possible: SQLite and PostgreSQL take one writer at a
        time. ``lock``, if given, is held around the transaction: worker processes of one run share
        one, so a waiting worker is woken at once instead of polling SQLite's busy handler.
        """
        if chunk.skipped:
            return
        # Hundreds of thousands of small acyclic tuples: the cyclic collector, triggered again and
        # again while they are built, is paused for the chunk (as evaluation does).
        enabled = gc.isenabled()
        gc.disable()
        try:
            prepared = self._prepare(chunk)
            self._pending_messages = {}
            with lock or nullcontext(), self.store.write() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHUNK_LOCK})
                self._write(conn, prepared)
        except IntegrityError as exc:
            raise StoreError(
                f"run {self.run_id}: chunk {chunk.index} conflicts with what is stored "
                f"(already saved by another process?): {exc.orig}"
            ) from exc
        except SQLAlchemyError as exc:  # one error type out of the store (workers send it back pickled)
            raise StoreError(
                f"run {self.run_id}: chunk {chunk.index} not stored: {getattr(exc, 'orig', None) or exc}"
            ) from exc
        finally:
            if enabled:
                gc.enable()
        self.committed = self.committed | {chunk.index}
        self._refs.update(self._pending_refs)
        self._messages.update(self._pending_messages)

    def _prepare(self, chunk: ChunkLike) -> PreparedChunk:
        """The chunk's rows, minus the ids only the database can give (record versions, check versions)."""
        return prepare_chunk(
            chunk, self.run_id, self.period, self.store.dialect == "sqlite", self.summarise_quiet
        )

    def _write(self, conn: Connection, p: PreparedChunk) -> None:
        run_id, index = self.run_id, p.index
        version_ids = self._versions(conn, p.records)
        quiet_items = [item for _, items in p.quiet.values() for item in items]
        refs = self._check_refs(conn, {key for _, key, _, _ in p.findings} | {i[0] for i in quiet_items})
        shared = self._message_refs(
            conn, {m for _, _, m, _ in p.findings if m is not None} | {i[1] for i in quiet_items}
        )
        shared[None] = None
        findings = p.findings
        record_rows: list[tuple[Any, ...]] = []
        for pos, ((*_, file, sheet, row), vid) in enumerate(zip(p.records, version_ids, strict=True)):
            got = p.quiet.get(pos)
            if got is None:
                record_rows.append((run_id, vid, index, file, sheet, row, None, None))
            elif can_summarise(run_id, vid):
                day, items = got
                summary = quiet_json([(*refs[k], shared[m], v, t) for k, m, v, t in items])
                record_rows.append((run_id, vid, index, file, sheet, row, day, summary))
            else:  # beyond what the view's derived id can hold: rows, as before
                record_rows.append((run_id, vid, index, file, sheet, row, None, None))
                findings = findings + _as_rows(pos, got)
        self._insert(conn, RunRecord, (_RUN_RECORD_COLUMNS, record_rows))
        head = [(run_id, vid, index) for vid in version_ids]
        self._insert(
            conn,
            StoredFinding,
            (
                FINDING_COLUMNS,
                [head[pos] + refs[key] + tail + (shared[m],) for pos, key, m, tail in findings],
            ),
        )
        self._insert(conn, RunMessage, p.messages)
        n_records, n_rejected, n_file_problems, n_findings = p.counts
        conn.execute(
            insert(RunChunk.__table__),
            {
                "run_id": run_id,
                "chunk": index,
                "committed_at": _now(),
                "n_records": n_records,
                "n_rejected": n_rejected,
                "n_file_problems": n_file_problems,
                "n_findings": n_findings,
            },
        )

    @staticmethod
    def _insert(conn: Connection, model: type, data: tuple[tuple[str, ...], list[tuple]]) -> None:
        """Many rows (column names, value tuples) in one executemany or COPY, straight to the driver.

        SQLAlchemy's per-row parameter processing cost as much as the database itself for a chunk's
        tens of thousands of findings; these tables hold only text, integers and dates, which both
        drivers take as they are (dates as ISO text on SQLite, the form SQLAlchemy itself stores).
        """
        cols, rows = data
        if not rows:
            return
        table = model.__table__  # type: ignore[attr-defined]
        quote = conn.dialect.identifier_preparer.quote
        if conn.dialect.name == "postgresql":  # COPY: PostgreSQL's bulk load, inside this transaction
            raw = conn.connection.driver_connection
            copy_sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in cols)}) FROM STDIN"
            dbapi_error = conn.dialect.loaded_dbapi.Error
            try:
                with raw.cursor() as cur, cur.copy(copy_sql) as copy:  # type: ignore[union-attr]
                    for r in rows:
                        copy.write_row(r)
            except dbapi_error as exc:  # as SQLAlchemy would raise it (IntegrityError for a duplicate)
                raise DBAPIError.instance(copy_sql, None, exc, dbapi_error, dialect=conn.dialect) from exc
            return
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in cols)}) "
            f"VALUES ({', '.join([mark] * len(cols))})"
        )
        conn.exec_driver_sql(sql, rows)

    def _versions(self, conn: Connection, records: list[tuple]) -> list[int]:
        """The record_versions id of each prepared record: the row of identical content, else a new version."""
        by_hash, latest = self._stored_versions(conn, {key[1] for key, *_ in records})
        out: list[int | None] = []
        new: list[tuple[int, tuple]] = []
        now = _now()
        created = (
            now.strftime("%Y-%m-%d %H:%M:%S.%f") if conn.dialect.name == "sqlite" else now
        )  # as SQLAlchemy stores it
        for key, h, name, values, *_ in records:
            found = by_hash.get(key + (h,))
            if found is not None:
                out.append(found)
                continue
            version, previous = latest.get(key, (0, None))
            new.append((len(out), (*key, version + 1, h, name, values, previous, self.run_id, created)))
            out.append(None)
        if new and conn.dialect.name == "sqlite":
            # This transaction holds SQLite's one write lock (BEGIN IMMEDIATE): the ids after the
            # largest are free, so the rows are inserted with them and nothing is read back.
            top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM record_versions").scalar_one()
            rows = []
            for n, (pos, row) in enumerate(new, start=top + 1):
                out[pos] = n
                rows.append((n, *row))
            self._insert(conn, RecordVersion, (("id", *_VERSION_COLUMNS), rows))
        elif new:
            # One bulk insert, then the new ids read back by their unique content key: INSERT … RETURNING
            # went row by row (measured: a third of the time to store a chunk of new records).
            self._insert(conn, RecordVersion, (_VERSION_COLUMNS, [row for _, row in new]))
            by_hash, _ = self._stored_versions(conn, {row[1] for _, row in new})
            for pos, row in new:
                out[pos] = by_hash[row[:3] + (row[4],)]
        return [i for i in out if i is not None]

    @staticmethod
    def _stored_versions(
        conn: Connection, record_ids: set[str]
    ) -> tuple[dict[tuple[str, str, str, str], int], dict[tuple[str, str, str], tuple[int, int]]]:
        """Stored versions of these record ids: (kind, id, period, hash) -> row id, and the latest per identity."""
        by_hash: dict[tuple[str, str, str, str], int] = {}
        latest: dict[tuple[str, str, str], tuple[int, int]] = {}
        ids = sorted(record_ids)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for i in range(0, len(ids), _IN_BATCH):
            part = ids[i : i + _IN_BATCH]
            # Plain SQL: SQLAlchemy compiling an IN of 500 parameters cost more than running it.
            rows = conn.exec_driver_sql(
                "SELECT id, kind, record_id, period, version, content_hash FROM record_versions "
                f"WHERE record_id IN ({', '.join([mark] * len(part))})",
                tuple(part),
            )
            for rid, kind, record_id, period, version, content_hash in rows:
                key = (kind, record_id, period)
                by_hash[key + (content_hash,)] = rid
                if key not in latest or version > latest[key][0]:
                    latest[key] = (version, rid)
        return by_hash, latest

    def _check_refs(self, conn: Connection, keys: set[tuple]) -> dict[tuple, tuple[int, int]]:
        """(checks.id, check_versions.id) of each check version key; versions not stored yet are added.

        Runs inside the chunk's write transaction, which holds the store's write lock (SQLite's
        BEGIN IMMEDIATE, PostgreSQL's advisory lock), so look-up-then-insert cannot race another
        writer. What this transaction adds is remembered only once it commits.
        """
        out, new = {}, {}
        for key in keys:
            ref = self._refs.get(key)
            if ref is None:
                ref = new[key] = self._check_ref_in(conn, key)
            out[key] = ref
        self._pending_refs = new
        return out

    def _message_refs(self, conn: Connection, texts: set[str]) -> dict[Any, int | None]:
        """shared_messages.id of each shared sentence; those not stored yet are added (as _check_refs)."""
        out: dict[Any, int | None] = {}
        t = SharedMessage.__table__
        for text_ in texts:
            ref = self._messages.get(text_)
            if ref is None:
                ref = self._pending_messages.get(text_)
            if ref is None:
                fp = hashlib.sha256(text_.encode()).hexdigest()
                ref = conn.execute(select(t.c.id).where(t.c.fingerprint == fp)).scalar()
                if ref is None:
                    ref = conn.execute(
                        insert(t).returning(t.c.id), {"fingerprint": fp, "text": clean_text(text_)}
                    ).scalar_one()
                self._pending_messages[text_] = ref
            out[text_] = ref
        return out

    def _check_ref_in(self, conn: Connection, key: tuple) -> tuple[int, int]:
        check_id, *static_values = key
        static = dict(zip(STATIC_COLUMNS, static_values, strict=True))
        ck, cv = CheckKey.__table__, CheckVersion.__table__
        check_ref = conn.execute(select(ck.c.id).where(ck.c.check_id == check_id)).scalar()
        if check_ref is None:
            check_ref = conn.execute(insert(ck).returning(ck.c.id), {"check_id": check_id}).scalar_one()
        fp = check_version_fingerprint(check_id, static)
        version_ref = conn.execute(select(cv.c.id).where(cv.c.fingerprint == fp)).scalar()
        if version_ref is None:
            version_ref = conn.execute(
                insert(cv).returning(cv.c.id), {"check_ref": check_ref, "fingerprint": fp, **static}
            ).scalar_one()
        return check_ref, version_ref

    def finish(self) -> RunSummary:
        """Mark the run complete with its counts (computed from what is stored, so resumed runs count right)."""
        with self.store.write() as conn:
            counts = run_status_counts(conn, self.run_id)
            n_records = conn.execute(
                select(func.count())
                .select_from(RunRecord.__table__)
                .where(RunRecord.__table__.c.run_id == self.run_id)
            ).scalar_one()
            msgs: dict[str, int] = dict(
                conn.execute(
                    select(RunMessage.__table__.c.category, func.count())
                    .where(RunMessage.__table__.c.run_id == self.run_id)
                    .group_by(RunMessage.__table__.c.category)
                ).all()
            )
            conn.execute(
                update(Run.__table__)
                .where(Run.__table__.c.id == self.run_id)
                .values(
                    finished_at=_now(),
                    n_records=n_records,
                    n_rejected=msgs.get("rejected", 0),
                    n_file_problems=msgs.get("file_problem", 0),
                    n_findings=sum(counts.values()),
                    counts=json.dumps(counts, sort_keys=True),
                )
            )
        from engine.store.run_reads import run_summary

        return run_summary(self.store, self.run_id)


_RUN_RECORD_COLUMNS = ("run_id", "record_version_id", "chunk", "file", "sheet", "row", "quiet_as_of", "quiet")


def _as_rows(pos: int, got: tuple[Any, list[tuple]]) -> list[tuple]:
    """Summarised findings back as finding rows (prepare_chunk's shape)."""
    day, items = got
    return [(pos, key, m, ("not_applicable", v, t, None, day, None, None, 0, None)) for key, m, v, t in items]


_VERSION_COLUMNS = (
    "kind",
    "record_id",
    "period",
    "version",
    "content_hash",
    "name",
    "values_json",
    "previous_id",
    "first_run_id",
    "created_at",
)
FINDING_COLUMNS = (
    "run_id",
    "record_version_id",
    "chunk",
    "check_ref",
    "version_ref",
    "status",
    "value",
    "threshold",
    "target",
    "as_of",
    "message",
    "missing_fields",
    "review",
    "details",
    "message_ref",
)
