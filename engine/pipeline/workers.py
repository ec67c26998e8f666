"""Evaluating chunks in worker processes.

durable-rules' C core never releases the GIL, so both cores are used with processes. Each worker
gets the compiled policy once (inherited by fork, or pickled once at start-up where fork is not
available), builds its own rulesets, and evaluates whole chunks; the parent reads the input, sends
chunks out and yields their results strictly in input order, with at most ``2 × jobs`` chunks in
flight so memory stays bounded however long the input is.

With a store to write to, each worker also stores the chunks it evaluates, through its own
connection (SQLite and PostgreSQL take one writer at a time, but the other worker evaluates
meanwhile): building, sending and inserting the rows of ~13 findings a record in the parent made it
the bottleneck of the run. A chunk is still one transaction with its ``run_chunks`` row, so
``--resume`` works as before; chunks may commit out of order, findings keep input order within one.

Findings travel back (when the caller wants them) as plain tuples: unpickling pydantic models costs more than building them, so
the worker sends each finding's already-validated field values (decimals as text, dates as
ordinals; what a finding shares with its record or its check version sent once per chunk) and the
parent re-creates the model without validating it a second time.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing.context import BaseContext
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from engine.evaluation.context import AggregateTable, Contribution, History
from engine.evaluation.evaluate import EngineName, Evaluator, compact_status_counts, finding_parts
from engine.evaluation.findings import Finding, Notice
from engine.pipeline.stream import ChunkResult, KeepFindings, record_key
from engine.policy.policy import Policy
from engine.records.model import Record, SourceRef

if TYPE_CHECKING:
    from engine.store.runs import StoreTarget

_FIELDS = tuple(Finding.model_fields)
# A finding = what its record gives + what its check version and status give + its own values.
_RECORD = ("record_id", "kind", "record_name", "source")
_OWN = ("value", "threshold", "target", "message", "missing_fields", "as_of")  # order used by decode
# A finding's own values beyond those (review flags, basis, the figures beside the judged one).
_EXTRA = (
    "review",
    "review_reasons",
    "basis",
    "reported",
    "counted",
    "baseline",
    "baseline_year",
    "baseline_source",
)
_STATIC = tuple(k for k in _FIELDS if k not in _RECORD and k not in _OWN and k not in _EXTRA)
_LISTS = tuple(k for k in _STATIC if k == "lead_departments")


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _enc(v: Any) -> Any:
    if isinstance(v, Decimal):
        return ("d", str(v))
    if isinstance(v, dt.date):
        return ("t", v.toordinal())
    if isinstance(v, list):
        return ("l", tuple(v))
    if isinstance(v, BaseModel):
        return ("m", type(v), v.__dict__)
    return v


def _dec(v: Any) -> Any:
    if type(v) is tuple:
        tag = v[0]
        if tag == "d":
            return Decimal(v[1])
        if tag == "t":
            return dt.date.fromordinal(v[1])
        if tag == "l":
            return list(v[1])
        return v[1].model_validate(v[2])
    return v


Encoded = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def encode_findings(findings: list[Finding]) -> Encoded:
    """(record parts, static parts, rows): each record's and each check version's fields sent once."""
    records: dict[tuple[Any, ...], int] = {}
    statics: dict[tuple[Any, ...], int] = {}
    rows = []
    for f in findings:
        d = f.__dict__
        rkey = (d["record_id"], d["kind"], d["record_name"], id(d["source"]))
        ri = records.get(rkey)
        if ri is None:
            ri = records[rkey] = len(records)
        skey = tuple(_enc(d[k]) if k in _LISTS else d[k] for k in _STATIC)
        si = statics.get(skey)
        if si is None:
            si = statics[skey] = len(statics)
        rows.append((ri, si, *(_enc(d[k]) for k in _OWN), tuple(_enc(d[k]) for k in _EXTRA)))
    sources = {id(f.__dict__["source"]): f.__dict__["source"] for f in findings}
    record_parts = [(rid, kind, name, _enc(sources[src])) for (rid, kind, name, src) in records]
    static_parts = [tuple(_enc(v) for v in key) for key in statics]
    return record_parts, static_parts, rows


def decode_findings(encoded: Encoded) -> list[Finding]:
    # Creating ~10^5 containers would trigger the cyclic collector many times over a large heap
    # (measured: most of the decoding time); they form no cycles, so it is paused meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode(encoded)
    finally:
        if enabled:
            gc.enable()


def _decode(encoded: Encoded) -> list[Finding]:
    record_parts, static_parts, rows = encoded
    recs = [
        dict(zip(_RECORD, (rid, kind, name, _dec(src)), strict=True)) for rid, kind, name, src in record_parts
    ]
    # One dict per check version and status with every field in declaration order; a finding's dict
    # is a copy with its record's and its own values filled in (assignment keeps the order).
    templates = []
    for part in static_parts:
        t = dict.fromkeys(_FIELDS)
        t.update(zip(_STATIC, (_dec(v) for v in part), strict=True))
        templates.append(t)
    dates: dict[Any, dt.date] = {}
    out = []
    for ri, si, value, threshold, target, message, missing, as_of, extra in rows:
        d = templates[si].copy()
        d.update(recs[ri])
        d["value"] = _dec(value) if type(value) is tuple else value
        d["threshold"] = _dec(threshold) if type(threshold) is tuple else threshold
        d["target"] = _dec(target) if type(target) is tuple else target
        d["message"] = message
        d["missing_fields"] = list(missing[1])
        day = dates.get(as_of)
        if day is None:
            day = dates[as_of] = _dec(as_of)
        d["as_of"] = day
        for k, v in zip(_EXTRA, extra, strict=True):
            d[k] = _dec(v)
        for k in _LISTS:
            d[k] = list(d[k] or ())  # each finding owns its lists, as after validation
        out.append(Finding.trusted(d))
    return out


# --- the workers --------------------------------------------------------------------------------------

_policy: Policy | None = None
_history: History | None = None
_engine: EngineName = "durable"
_evaluator: Evaluator | None = None
_writer: Any = None  # engine.store.runs.RunWriter of this worker, when chunks are stored here
_write_lock: Any = None  # one per pool: the workers' write transactions take turns without polling


def _die_with_parent() -> None:
    """Ask Linux to end this worker when its parent dies (a SIGKILLed run must not leave workers behind)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):  # not Linux: workers end when their next read of the queue fails
        pass


def _init(
    policy: Policy | None,
    history: History | None,
    engine: EngineName,
    store_to: StoreTarget | None = None,
    write_lock: Any = None,
    rules_date: dt.date | None = None,
) -> None:
    global _policy, _history, _engine, _evaluator, _writer, _write_lock
    _die_with_parent()
    # What the worker inherited (the policy, the history, the parent's heap after fork) lives as long
    # as the worker: kept out of the cyclic collector's generations, so that collecting a chunk's
    # short-lived objects does not walk (and, after fork, copy) all of it again and again. freeze()
    # only relinks the generations' lists; a collect() first would touch, and so copy, every page.
    gc.freeze()
    if policy is not None:  # spawn: sent once per worker; fork: already inherited
        _policy, _history, _engine = policy, history, engine
    assert _policy is not None
    _evaluator = Evaluator(_policy, _engine, rules_date)
    if store_to is not None:
        from engine.store.runs import reopen_run

        _writer = reopen_run(store_to, _policy)
        _write_lock = write_lock


def _call(fn: Callable[[Evaluator, History | None, Any], Any], item: Any) -> Any:
    assert _evaluator is not None
    return fn(_evaluator, _history, item)


ChunkOutcome = tuple[
    Encoded | None,
    list[Notice],
    dict[str, int],
    bool,
    list[Contribution],
    dict[tuple[Any, ...], dict[str, int]] | None,
]


def _work_chunk(
    sent: SentChunk,
    as_of: dt.date | None,
    keep_findings: KeepFindings,
    aggregates: AggregateTable | None = None,
    skipped: bool = False,
) -> ChunkOutcome:
    """Evaluate a chunk and, when this worker has a writer, store it: (findings?, notices, counts, stored, contributions)."""
    assert _evaluator is not None
    chunk = receive_chunk(sent)
    # Stored and not sent back: the findings are built as parts only (no models nobody reads).
    as_parts = _writer is not None and keep_findings is False
    result = _evaluator.evaluate(
        chunk.records, as_of=as_of, history=_history, parts=as_parts, aggregates=aggregates
    )
    counts = (
        compact_status_counts(result.parts)
        if result.parts is not None
        else dict(Counter(map(_status, result.findings)))
    )
    stored = False
    if skipped:
        return None, [], {}, False, result.contributions, None
    if _writer is not None:
        # The compact findings get their values and messages only here, where they are stored. The
        # chunk's rows are hundreds of thousands of acyclic containers, freed by reference counting
        # as soon as the chunk is stored: the cyclic collector is paused meanwhile (as save_chunk
        # does), not left to walk them again and again while they are built.
        chunk.findings, chunk.notices = result.findings, result.notices
        enabled = gc.isenabled()
        gc.disable()
        try:
            chunk.parts = finding_parts(result.parts) if result.parts is not None else None
            _writer.save_chunk(chunk, _write_lock)  # raises StoreError, which pickles back to the parent
        finally:
            chunk.parts = None
            if enabled:
                gc.enable()
        stored = True
    if isinstance(keep_findings, frozenset):  # only what a person is shown, and each record's counts
        sent_back, per_record = _selected(result.findings, keep_findings)
        return encode_findings(sent_back), result.notices, counts, stored, result.contributions, per_record
    return (
        (encode_findings(result.findings) if keep_findings is not False else None),
        result.notices,
        counts,
        stored,
        result.contributions,
        None,
    )


def _selected(
    findings: list[Finding], statuses: frozenset[str]
) -> tuple[list[Finding], dict[tuple[Any, ...], dict[str, int]]]:
    """The findings of `statuses` or flagged for review; each record's counts by status (and "review"),
    by record_key (two yearly reports of one subject are two records)."""
    kept = []
    per_record: dict[tuple[Any, ...], dict[str, int]] = {}
    for f in findings:
        c = per_record.setdefault(record_key(f.kind, f.record_id, f.source), {})
        c[f.status] = c.get(f.status, 0) + 1
        if f.review:
            c["review"] = c.get("review", 0) + 1
        if f.review or f.status in statuses:
            kept.append(f)
    return kept, per_record


_status = attrgetter("status")

# A chunk on its way to a worker: its records as plain tuples (pickling pydantic models field by
# field cost as much as validating them), the rest as it is (rejected rows, problems: few).
SentChunk = tuple[
    int, list[tuple[Any, ...]], list[tuple[frozenset[str], frozenset[str]]], list[Any], list[Any], list[str]
]


_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _rebuild(cls: type[BaseModel], values: dict[str, Any], fields_set: frozenset[str]) -> Any:
    """A model from the field values of one the parent validated: model_construct() without its
    per-field loop (every field is given, in declaration order), as Finding.trusted does."""
    m = object.__new__(cls)
    _set_dict(m, values)
    _set_fields_set(m, set(fields_set))
    _set_extra(m, None)
    _set_private(m, None)
    return m


def send_chunk(chunk: ChunkResult) -> SentChunk:
    field_sets: dict[tuple[frozenset[str], frozenset[str]], int] = {}  # which fields were set, as sent (few)
    records = []
    for r in chunk.records:
        src = r.source
        sets = (frozenset(r.model_fields_set), frozenset(src.model_fields_set))
        k = field_sets.setdefault(sets, len(field_sets))
        records.append(
            (
                r.kind,
                r.id,
                r.name,
                r.values,
                src.file,
                src.sheet,
                src.row,
                r.conversions,
                r.warnings,
                r.invalid,
                k,
            )
        )
    # field_sets: each distinct (record fields set, source fields set) pair, by its number k
    return chunk.index, records, list(field_sets), chunk.errors, chunk.file_problems, chunk.warnings


def receive_chunk(sent: SentChunk) -> ChunkResult:
    """The chunk as the parent had it (records re-created without validating them a second time)."""
    index, records, field_sets, errors, file_problems, warnings = sent
    enabled = gc.isenabled()
    gc.disable()
    try:
        made = [
            _rebuild(
                Record,
                {
                    "kind": kind,
                    "id": rid,
                    "name": name,
                    "values": values,
                    "source": _rebuild(
                        SourceRef, {"file": file, "sheet": sheet, "row": row}, field_sets[k][1]
                    ),
                    "conversions": conversions,
                    "warnings": rec_warnings,
                    "invalid": invalid,
                },
                field_sets[k][0],
            )
            for kind, rid, name, values, file, sheet, row, conversions, rec_warnings, invalid, k in records
        ]
    finally:
        if enabled:
            gc.enable()
    return ChunkResult(
        index=index, records=made, errors=errors, file_problems=file_problems, warnings=warnings
    )


class WorkerPool:
    """`jobs` processes evaluating chunks; results come back in submission order.

    A worker that dies (durable-rules can crash the process) raises BrokenProcessPool in the
    parent instead of hanging it.
    """

    def __init__(
        self,
        policy: Policy,
        history: History,
        engine: EngineName,
        jobs: int,
        store_to: StoreTarget | None = None,
        rules_date: dt.date | None = None,
    ):
        global _policy, _history, _engine
        self.jobs = jobs
        methods = mp.get_all_start_methods()
        if "fork" in methods:
            # The workers inherit the compiled policy instead of unpickling it.
            _policy, _history, _engine = policy, history, engine
            ctx: BaseContext = mp.get_context("fork")
            lock = ctx.Lock() if store_to is not None else None
            self._pool = ProcessPoolExecutor(
                jobs,
                mp_context=ctx,
                initializer=_init,
                initargs=(None, None, engine, store_to, lock, rules_date),
            )
        else:
            ctx = mp.get_context("spawn")
            lock = ctx.Lock() if store_to is not None else None
            self._pool = ProcessPoolExecutor(
                jobs,
                mp_context=ctx,
                initializer=_init,
                initargs=(policy, history, engine, store_to, lock, rules_date),
            )

    def map_chunks(
        self,
        chunks: Iterable[ChunkResult],
        as_of: dt.date | None,
        skip: frozenset[int],
        keep_findings: KeepFindings = True,
        aggregates: AggregateTable | None = None,
    ) -> Iterator[ChunkResult]:
        """Evaluate (and store, if the pool has a store) every chunk not in `skip`; yield them in order.

        A skipped chunk (stored by an interrupted run) is still evaluated without storing, so that what its
        records add to aggregates is counted."""
        submitted = (
            (
                chunk,
                self._pool.submit(
                    _work_chunk,
                    send_chunk(chunk),
                    as_of,
                    keep_findings if chunk.index not in skip else False,
                    aggregates,
                    chunk.index in skip,
                ),
            )
            for chunk in chunks
        )
        for chunk, job in self._in_order(submitted):
            encoded, notices, counts, stored, contributions, per_record = job.result()
            chunk.contributions = contributions
            if chunk.index in skip:
                chunk.skipped = True
                yield chunk
                continue
            chunk.findings = decode_findings(encoded) if encoded is not None else []
            chunk.notices, chunk.stored = notices, stored
            chunk.counts = None if encoded is not None and per_record is None else counts
            chunk.record_counts = per_record
            yield chunk

    def map_in_workers(
        self, fn: Callable[[Evaluator, History | None, Any], Any], items: Iterable[Any]
    ) -> Iterator[Any]:
        """``fn(the worker's evaluator, its history, item)`` for every item, run in the workers; results in
        order. For callers that want back less than the findings (the benchmark: a count and a digest);
        ``fn`` must be picklable (a module-level function)."""
        for _, job in self._in_order((None, self._pool.submit(_call, fn, item)) for item in items):
            yield job.result()

    def _in_order(self, submitted: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
        """(tag, job or None) pairs handed on in order, with at most 2 × jobs pending: `submitted` is
        a generator, so the input is read (and submitted) only that far ahead of the results."""
        pending: deque[tuple[Any, Any]] = deque()
        limit = 2 * self.jobs
        for entry in submitted:
            pending.append(entry)
            while len(pending) > limit:
                yield pending.popleft()
        while pending:
            yield pending.popleft()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def terminate(self) -> None:
        """Stop now: pending chunks are cancelled and running workers killed, and waited for, so that no
        worker commits a chunk after the caller has reported the failure (a resume planned right
        after must see every chunk that will ever be committed). A killed worker's open transaction
        is rolled back by the database."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            p.terminate()
        for p in processes:
            p.join(timeout=30)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
