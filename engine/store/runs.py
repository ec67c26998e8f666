"""Writing runs: begin, one transaction per chunk, finish; and resuming an interrupted run.

A chunk's records, findings, messages and its ``run_chunks`` row are committed together, so after a
crash the committed chunks are whole and ``--resume`` skips exactly those. The unique constraint on
(run, record version, check) makes a duplicate finding impossible rather than merely unlikely.
"""

from __future__ import annotations

import datetime as dt
import gc
import getpass
import hashlib
import json
import operator
import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

import engine
from engine.policy.policy import Policy
from engine.policy.schema import VERSION_FIELDS, SharedText
from engine.records.model import Record, SourceRef
from engine.store.codec import (
    STATIC_COLUMNS,
    check_version_fingerprint,
    clean_text,
    details_json,
    encode_value,
    version_texts,
)
from engine.store.database import StoreError
from engine.store.models import (
    CheckKey,
    CheckVersion,
    RecordVersion,
    Run,
    RunChunk,
    RunMessage,
    RunPack,
    RunRecord,
    SharedMessage,
    StoredFinding,
)
from engine.store.store import Store


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


_CHUNK_LOCK = 7_316_042_025  # PostgreSQL advisory lock: record versions are numbered one writer at a time
_IN_BATCH = 500  # ids per IN (...) look-up


class InputFile(BaseModel):
    path: str  # as given on the command line
    abs_path: str
    sha256: str
    size: int


class RunSummary(BaseModel):
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    reviewer: str
    as_of: dt.date | None
    n_records: int
    n_rejected: int
    n_file_problems: int
    n_findings: int
    counts: dict[str, int]


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def describe_inputs(paths: Sequence[str]) -> list[InputFile]:
    out = []
    for p in paths:
        path = Path(p)
        h = hashlib.sha256()
        try:
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            size = path.stat().st_size
        except OSError:
            # An unreadable file is reported by intake as a file problem; the run still records it.
            out.append(InputFile(path=p, abs_path=str(path.resolve()), sha256="", size=-1))
            continue
        out.append(InputFile(path=p, abs_path=str(path.resolve()), sha256=h.hexdigest(), size=size))
    return out


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def yearly_kinds(policy: Policy) -> frozenset[str]:
    """Kinds that report once a year: the same subject has one record per year, not versions."""
    return frozenset(k for k, spec in policy.catalog.kinds.items() if spec.date_field == "report_year")


@dataclass
class _Prepared:
    """A chunk's rows as far as they can be built outside the write transaction."""

    index: int
    records: list[tuple]  # ((kind, id, period), content hash, name, values JSON, file, sheet, row)
    # (record position, check version key, shared sentence or None, (status, value, …, details))
    findings: list[tuple]
    messages: tuple[tuple[str, ...], list[tuple]]
    counts: tuple[int, int, int, int]  # records, rejected, file problems, findings


class StoreTarget(BaseModel):
    """A run being written, as another process needs it to open its own writer (``reopen_run``)."""

    url: str
    run_id: int


class RunWriter:
    """Writes one run chunk by chunk. Get one from ``begin_run``, ``resume_run`` or ``reopen_run``."""

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
            raise StoreError(f"run {self.run_id}: chunk {chunk.index} conflicts with what is stored "
                             f"(already saved by another process?): {exc.orig}") from exc
        except SQLAlchemyError as exc:  # one error type out of the store (workers send it back pickled)
            raise StoreError(f"run {self.run_id}: chunk {chunk.index} not stored: {getattr(exc, 'orig', None) or exc}"
                             ) from exc
        finally:
            if enabled:
                gc.enable()
        self.committed = self.committed | {chunk.index}
        self._refs.update(self._pending_refs)
        self._messages.update(self._pending_messages)

    def _prepare(self, chunk: ChunkLike) -> _Prepared:
        """The chunk's rows, minus the ids only the database can give (record versions, check versions)."""
        iso = self.store.dialect == "sqlite"
        records = []
        by_source: dict[tuple, int] = {}
        by_id: dict[tuple[str, str], int | None] = {}
        seen: set[tuple[str, str, str]] = set()
        for pos, r in enumerate(chunk.records):
            key = (r.kind, r.id, self.period(r))
            if key in seen:
                raise StoreError(f"record {r.id} ({r.kind}) appears twice in one chunk")
            seen.add(key)
            src = r.source
            content_hash, values = version_texts(r.kind, r.id, r.name, r.values)
            records.append((key, content_hash, clean_text(r.name), values, clean_text(src.file),
                            clean_text(src.sheet, 200), src.row))
            # Keyed on plain values: hashing and comparing SourceRef models per finding was a hot spot.
            by_source[(r.kind, r.id, src.file, src.sheet, src.row)] = pos
            by_id[(r.kind, r.id)] = None if (r.kind, r.id) in by_id else pos  # None: ambiguous
        days: dict[dt.date, object] = {}
        findings = []
        if chunk.parts is not None:  # FindingParts from the evaluator: the record is the object itself
            where = {id(r): pos for pos, r in enumerate(chunk.records)}
            for rec, key, status, value, threshold, target, as_of, message, missing, review, extras in chunk.parts:
                pos = where.get(id(rec))
                if pos is None:
                    raise StoreError(f"finding for record {rec.id} ({rec.kind}) matches no record of chunk "
                                     f"{chunk.index}")
                day = days.get(as_of)
                if day is None:
                    day = days[as_of] = as_of.isoformat() if iso else as_of
                shared = message if type(message) is SharedText else None
                findings.append((pos, key, shared, (status, encode_value(value), encode_value(threshold),
                                                    encode_value(target), day,
                                                    None if shared is not None else clean_text(message),
                                                    "、".join(missing) if missing else None, int(review),
                                                    None if len(extras) == 1 and not extras.get("review_reasons")
                                                    else details_json(extras))))
        last: tuple[Any, Any, Any] = (None, None, None)  # a record's findings come together: its place once
        for f in chunk.findings:
            d = f.__dict__  # attribute access through pydantic's __getattr__ chain costs per field
            src = d["source"]
            if src is not None and src is last[0] and d["record_id"] == last[1]:
                pos = last[2]
            else:
                pos = by_source.get((d["kind"], d["record_id"], src.file, src.sheet, src.row)) \
                    if isinstance(src, SourceRef) else None
                if pos is None:
                    pos = by_id.get((d["kind"], d["record_id"]))
                if pos is None:
                    raise StoreError(f"finding for record {f.record_id} ({f.kind}) matches no record of chunk "
                                     f"{chunk.index}")
                last = (src, d["record_id"], pos)
            as_of = d["as_of"]
            day = days.get(as_of)
            if day is None:
                day = days[as_of] = as_of.isoformat() if iso else as_of
            missing = d["missing_fields"]
            message = d["message"]
            shared = message if type(message) is SharedText else None
            findings.append((pos, _static_key(d), shared, (d["status"], encode_value(d["value"]),
                                                           encode_value(d["threshold"]), encode_value(d["target"]), day,
                                                           None if shared is not None else clean_text(message),
                                                           "、".join(missing) if missing else None, int(d["review"]),
                                                           details_json(d))))
        counts = (len(chunk.records), len(chunk.errors), len(chunk.file_problems), len(findings))
        return _Prepared(chunk.index, records, findings, _dict_rows(self._message_rows(chunk)), counts)

    def _write(self, conn: Connection, p: _Prepared) -> None:
        run_id, index = self.run_id, p.index
        version_ids = self._versions(conn, p.records)
        self._insert(conn, RunRecord, (_RUN_RECORD_COLUMNS, [
            (run_id, vid, index, file, sheet, row)
            for (*_, file, sheet, row), vid in zip(p.records, version_ids, strict=True)]))
        refs = self._check_refs(conn, {key for _, key, _, _ in p.findings})
        shared = self._message_refs(conn, {m for _, _, m, _ in p.findings if m is not None})
        shared[None] = None
        head = [(run_id, vid, index) for vid in version_ids]
        self._insert(conn, StoredFinding, (FINDING_COLUMNS, [
            head[pos] + refs[key] + tail + (shared[m],) for pos, key, m, tail in p.findings]))
        self._insert(conn, RunMessage, p.messages)
        n_records, n_rejected, n_file_problems, n_findings = p.counts
        conn.execute(insert(RunChunk.__table__), {
            "run_id": run_id, "chunk": index, "committed_at": _now(), "n_records": n_records,
            "n_rejected": n_rejected, "n_file_problems": n_file_problems, "n_findings": n_findings})

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
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in cols)}) "
               f"VALUES ({', '.join([mark] * len(cols))})")
        conn.exec_driver_sql(sql, rows)

    def _versions(self, conn: Connection, records: list[tuple]) -> list[int]:
        """The record_versions id of each prepared record: the row of identical content, else a new version."""
        by_hash, latest = self._stored_versions(conn, {key[1] for key, *_ in records})
        out: list[int | None] = []
        new: list[tuple[int, tuple]] = []
        now = _now()
        created = now.strftime("%Y-%m-%d %H:%M:%S.%f") if conn.dialect.name == "sqlite" else now  # as SQLAlchemy stores it
        for key, h, name, values, *_ in records:
            found = by_hash.get(key + (h,))
            if found is not None:
                out.append(found)
                continue
            version, previous = latest.get(key, (0, None))
            new.append((len(out), (*key, version + 1, h, name, values, previous, self.run_id, created)))
            out.append(None)
        if new:
            # One bulk insert, then the new ids read back by their unique content key: INSERT … RETURNING
            # went row by row (measured: a third of the time to store a chunk of new records).
            self._insert(conn, RecordVersion, (_VERSION_COLUMNS, [row for _, row in new]))
            by_hash, _ = self._stored_versions(conn, {row[1] for _, row in new})
            for pos, row in new:
                out[pos] = by_hash[row[:3] + (row[4],)]
        return [i for i in out if i is not None]

    @staticmethod
    def _stored_versions(conn: Connection, record_ids: set[str]
                         ) -> tuple[dict[tuple[str, str, str, str], int], dict[tuple[str, str, str], tuple[int, int]]]:
        """Stored versions of these record ids: (kind, id, period, hash) -> row id, and the latest per identity."""
        by_hash: dict[tuple[str, str, str, str], int] = {}
        latest: dict[tuple[str, str, str], tuple[int, int]] = {}
        ids = sorted(record_ids)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for i in range(0, len(ids), _IN_BATCH):
            part = ids[i:i + _IN_BATCH]
            # Plain SQL: SQLAlchemy compiling an IN of 500 parameters cost more than running it.
            rows = conn.exec_driver_sql(
                "SELECT id, kind, record_id, period, version, content_hash FROM record_versions "
                f"WHERE record_id IN ({', '.join([mark] * len(part))})", tuple(part))
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
                    ref = conn.execute(insert(t).returning(t.c.id),
                                       {"fingerprint": fp, "text": clean_text(text_)}).scalar_one()
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
            version_ref = conn.execute(insert(cv).returning(cv.c.id),
                                       {"check_ref": check_ref, "fingerprint": fp, **static}).scalar_one()
        return check_ref, version_ref

    def _message_rows(self, chunk: ChunkLike) -> list[dict]:
        # Every row carries every column: one executemany needs uniform keys (a chunk can hold
        # rejected rows and file problems together).
        base = {"run_id": self.run_id, "chunk": chunk.index, "file": None, "sheet": None, "row": None,
                "record_id": None, "field": None}
        rows = []
        for e in chunk.errors:
            rows.append(base | {"category": "rejected", "file": clean_text(e.source.file),
                                "sheet": clean_text(e.source.sheet, 200), "row": e.source.row,
                                "record_id": clean_text(e.record_id, 200), "field": clean_text(e.field, 200),
                                "message": clean_text(e.message)})
        for p in chunk.file_problems:
            rows.append(base | {"category": "file_problem", "file": clean_text(p.file), "message": clean_text(p.message)})
        for w in chunk.warnings:
            rows.append(base | {"category": "warning", "message": clean_text(w)})
        for n in chunk.notices:
            rows.append(base | {"category": "notice", "file": clean_text(n.source.file) if n.source else None,
                                "sheet": clean_text(n.source.sheet, 200) if n.source else None,
                                "row": n.source.row if n.source else None,
                                "record_id": clean_text(n.record_id, 200), "message": clean_text(n.message)})
        return rows

    def finish(self) -> RunSummary:
        """Mark the run complete with its counts (computed from what is stored, so resumed runs count right)."""
        with self.store.write() as conn:
            counts = _status_counts(conn, self.run_id)
            n_records = conn.execute(select(func.count()).select_from(RunRecord.__table__)
                                     .where(RunRecord.__table__.c.run_id == self.run_id)).scalar_one()
            msgs = dict(conn.execute(select(RunMessage.__table__.c.category, func.count())
                                     .where(RunMessage.__table__.c.run_id == self.run_id)
                                     .group_by(RunMessage.__table__.c.category)).all())
            conn.execute(update(Run.__table__).where(Run.__table__.c.id == self.run_id).values(
                finished_at=_now(), n_records=n_records, n_rejected=msgs.get("rejected", 0),
                n_file_problems=msgs.get("file_problem", 0), n_findings=sum(counts.values()),
                counts=json.dumps(counts, sort_keys=True)))
        from engine.store.queries import run_summary

        return run_summary(self.store, self.run_id)


def _dict_rows(rows: list[dict]) -> tuple[tuple[str, ...], list[tuple]]:
    """Uniform dict rows (no dates) as (columns, tuples)."""
    if not rows:
        return (), []
    cols = tuple(rows[0])
    return cols, [tuple(r[c] for c in cols) for r in rows]


_RUN_RECORD_COLUMNS = ("run_id", "record_version_id", "chunk", "file", "sheet", "row")
_VERSION_COLUMNS = ("kind", "record_id", "period", "version", "content_hash", "name", "values_json", "previous_id",
                    "first_run_id", "created_at")
FINDING_COLUMNS = ("run_id", "record_version_id", "chunk", "check_ref", "version_ref", "status", "value",
                   "threshold", "target", "as_of", "message", "missing_fields", "review", "details", "message_ref")


_STATIC_FIELDS = VERSION_FIELDS  # the Finding fields a check version determines (its key in FindingParts)


_static_key = operator.itemgetter(*_STATIC_FIELDS)  # a finding's __dict__ -> its check version's key


def _status_counts(conn: Connection, run_id: int) -> dict[str, int]:
    t = StoredFinding.__table__
    return dict(conn.execute(select(t.c.status, func.count()).where(t.c.run_id == run_id)
                             .group_by(t.c.status)).all())


def begin_run(store: Store, policy: Policy, *, inputs: Sequence[str], reviewer: str | None = None,
              as_of: dt.date | None = None, kind: str | None = None, chunk_size: int,
              engine_name: str = "durable", rules_dirs: Sequence[str] = ()) -> RunWriter:
    """Record a new run (who, when, which rules, which files) and return its writer."""
    files = describe_inputs(inputs)
    with store.write() as conn:
        run_id = conn.execute(insert(Run.__table__).returning(Run.__table__.c.id), {
            "started_at": _now(), "reviewer": clean_text(reviewer or default_reviewer(), 200), "as_of": as_of,
            "kind": kind, "chunk_size": chunk_size, "engine": engine_name, "engine_version": engine.__version__,
            "policy_fingerprint": policy.fingerprint,
            "rules_dirs": json.dumps([str(Path(d).resolve()) for d in rules_dirs], ensure_ascii=False),
            "inputs": json.dumps([f.model_dump() for f in files], ensure_ascii=False),
            "n_records": 0, "n_rejected": 0, "n_file_problems": 0, "n_findings": 0, "counts": "{}", "resumed": 0,
        }).scalar_one()
        conn.execute(insert(RunPack.__table__), [
            {"run_id": run_id, "pack_id": p.id, "title": p.pack.meta.title, "number": p.pack.meta.number,
             "fingerprint": p.fingerprint} for p in policy.packs])
    return RunWriter(store, run_id, policy)


def reopen_run(target: StoreTarget, policy: Policy) -> RunWriter:
    """A writer for a run another process began, on a connection of this process's own."""
    return RunWriter(Store(target.url, create=False), target.run_id, policy)


class ResumePlan(BaseModel):
    """What an interrupted run needs to be continued exactly as it started."""

    run_id: int
    paths: list[str]
    as_of: dt.date | None
    kind: str | None
    chunk_size: int
    engine: str
    rules_dirs: list[str]
    reviewer: str
    committed: frozenset[int]


def resume_plan(store: Store, run_id: int) -> ResumePlan:
    """Read back how a run was started; refuse if it is finished or its input files changed."""
    with store.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in {store.display}")
        if run.finished_at is not None:
            raise StoreError(f"run {run_id} is already complete; nothing to resume")
        if run.engine_version != engine.__version__:
            raise StoreError(f"run {run_id} was started by engine {run.engine_version}, this is "
                             f"{engine.__version__}; start a new evaluation instead")
        committed = frozenset(s.execute(select(RunChunk.chunk).where(RunChunk.run_id == run_id)).scalars().all())
        files = [InputFile.model_validate(f) for f in json.loads(run.inputs)]
        now = {f.abs_path: f for f in describe_inputs([f.abs_path for f in files])}
        changed = [f.path for f in files if now[f.abs_path].sha256 != f.sha256]
        if changed:
            raise StoreError(f"run {run_id} cannot be resumed: input changed since it started: {', '.join(changed)}")
        # Keep the file names as first given when resumed from the same folder, so sources read the same.
        paths = [f.path if Path(f.path).resolve() == Path(f.abs_path) else f.abs_path for f in files]
        return ResumePlan(run_id=run_id, paths=paths, as_of=run.as_of, kind=run.kind, chunk_size=run.chunk_size,
                          engine=run.engine, rules_dirs=json.loads(run.rules_dirs), reviewer=run.reviewer,
                          committed=committed)


def resume_run(store: Store, plan: ResumePlan, policy: Policy) -> RunWriter:
    """A writer that continues the run; the policy must be exactly the one the run started with."""
    with store.write() as conn:
        t = Run.__table__
        fp = conn.execute(select(t.c.policy_fingerprint).where(t.c.id == plan.run_id)).scalar_one()
        if fp != policy.fingerprint:
            raise StoreError(f"run {plan.run_id} cannot be resumed: the rule packs changed since it started "
                             f"(fingerprint {fp[:12]}…, now {policy.fingerprint[:12]}…); start a new evaluation")
        conn.execute(update(t).where(t.c.id == plan.run_id).values(resumed=t.c.resumed + 1))
    return RunWriter(store, plan.run_id, policy, plan.committed)
