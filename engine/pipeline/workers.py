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

The chunks and the findings cross between processes as plain tuples (engine.pipeline.transport).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from engine.evaluation.compact_findings import CompactFindings
from engine.evaluation.context import AggregateTable, Contribution, History
from engine.evaluation.evaluate import EngineName, Evaluator, compact_status_counts, finding_parts
from engine.evaluation.findings import Finding, Notice
from engine.pipeline.stream import ChunkResult, KeepFindings, counts_by_record, record_key
from engine.pipeline.transport import (
    Encoded,
    SentChunk,
    decode_findings,
    encode_findings,
    receive_chunk,
    send_chunk,
)
from engine.policy.compiled import REVIEW_CODES
from engine.policy.compiler import CODE_STATUS
from engine.policy.policy import Policy

if TYPE_CHECKING:
    from engine.store.runs import StoreTarget


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


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
    # Stored here: the findings are built as parts only, and as models only those sent back (with a
    # selective keep, the ones a person is shown), never every one of them.
    as_parts = _writer is not None and keep_findings is not True
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
        if result.parts is not None:
            sent_back, per_record = _selected_parts(result.parts, keep_findings)
        else:
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
    return [f for f in findings if f.review or f.status in statuses], counts_by_record(findings)


def _selected_parts(
    compact: CompactFindings, statuses: frozenset[str]
) -> tuple[list[Finding], dict[tuple[Any, ...], dict[str, int]]]:
    """_selected from the compact findings: each record's counts from the outcome codes, and models
    made (as evaluate() makes them) only for the findings sent back."""
    found: list[Finding] = []
    per_record: dict[tuple[Any, ...], dict[str, int]] = {}
    last: Any = None
    counts: dict[str, int] = {}
    common: dict[str, Any] = {}
    for prep, version, code in compact:
        if prep is not last:
            rec = prep.record
            counts = per_record.setdefault(record_key(rec.kind, rec.id, rec.source), {})
            common = {
                "record_id": rec.id,
                "kind": rec.kind,
                "record_name": rec.name,
                "source": rec.source,
                "as_of": prep.date,
            }
            last = prep
        status = CODE_STATUS[code]
        counts[status] = counts.get(status, 0) + 1
        flagged = code in REVIEW_CODES
        if flagged:
            counts["review"] = counts.get("review", 0) + 1
        if flagged or status in statuses:
            found.append(version.finding(prep, code, common))
    return found, per_record


_status = attrgetter("status")


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
