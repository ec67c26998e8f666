"""Evaluating chunks in worker processes.

durable-rules' C core never releases the GIL, so both cores are used with processes. Each worker
gets the compiled policy once (inherited by fork, or pickled once at start-up where fork is not
available), builds its own rulesets, and evaluates whole chunks; the parent reads the input, sends
chunks out and yields their results strictly in input order, with at most ``2 × jobs`` chunks in
flight so memory stays bounded however long the input is.

Findings travel back as plain tuples: unpickling pydantic models costs more than building them, so
the worker sends each finding's already-validated field values (decimals as text, dates as
ordinals) and the parent re-creates the model without validating it a second time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from typing import Any

from engine.evaluation.evaluate import EngineName, EvaluationResult, Evaluator, History
from engine.evaluation.findings import Finding, Notice
from engine.policy.policy import Policy
from engine.records.model import Record

_FIELDS = tuple(Finding.model_fields)
_FIELD_SET = frozenset(_FIELDS)
_DECIMALS = {i for i, k in enumerate(_FIELDS) if k in ("value", "threshold", "target")}
_DATES = {i for i, k in enumerate(_FIELDS) if k in ("due", "as_of")}


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --- the finding codec ------------------------------------------------------------------------------

def encode_findings(findings: list[Finding]) -> list[tuple[Any, ...]]:
    out = []
    for f in findings:
        row = list(f.__dict__.values())
        for i in _DECIMALS:
            v = row[i]
            if isinstance(v, Decimal):
                row[i] = str(v)
        for i in _DATES:
            v = row[i]
            if v is not None:
                row[i] = v.toordinal()
        out.append(tuple(row))
    return out


def decode_findings(rows: list[tuple[Any, ...]]) -> list[Finding]:
    out = []
    new = Finding.__new__
    setattr_ = object.__setattr__
    dates: dict[int, dt.date] = {}
    for row in rows:
        values = list(row)
        for i in _DECIMALS:
            v = values[i]
            if isinstance(v, str):
                values[i] = Decimal(v)
        for i in _DATES:
            v = values[i]
            if v is not None:
                d = dates.get(v)
                if d is None:
                    d = dates[v] = dt.date.fromordinal(v)
                values[i] = d
        m = new(Finding)
        # The values were validated by Finding(...) in the worker; this is pydantic's own
        # model_construct() minus its per-field default handling (every field is present).
        setattr_(m, "__dict__", dict(zip(_FIELDS, values, strict=True)))
        setattr_(m, "__pydantic_fields_set__", set(_FIELD_SET))
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        out.append(m)
    return out


# --- the workers --------------------------------------------------------------------------------------

_policy: Policy | None = None
_history: History | None = None
_engine: EngineName = "durable"
_evaluator: Evaluator | None = None


def _init(policy: Policy | None, history: History | None, engine: EngineName) -> None:
    global _policy, _history, _engine, _evaluator
    if policy is not None:  # spawn: sent once per worker; fork: already inherited
        _policy, _history, _engine = policy, history, engine
    assert _policy is not None
    _evaluator = Evaluator(_policy, _engine)


def _work(records: list[Record], as_of: dt.date | None) -> tuple[list[tuple[Any, ...]], list[Notice]]:
    assert _evaluator is not None
    result = _evaluator.evaluate(records, as_of=as_of, history=_history)
    return encode_findings(result.findings), result.notices


class WorkerPool:
    """`jobs` processes evaluating chunks; results come back in submission order.

    A worker that dies (durable-rules can crash the process) raises BrokenProcessPool in the
    parent instead of hanging it.
    """

    def __init__(self, policy: Policy, history: History, engine: EngineName, jobs: int):
        global _policy, _history, _engine
        self.jobs = jobs
        methods = mp.get_all_start_methods()
        if "fork" in methods:
            # The workers inherit the compiled policy instead of unpickling it.
            _policy, _history, _engine = policy, history, engine
            self._pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork"), initializer=_init,
                                             initargs=(None, None, engine))
        else:
            self._pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init,
                                             initargs=(policy, history, engine))

    def map_ordered(self, chunks: Iterable[tuple[Any, list[Record] | None, dt.date | None]]
                    ) -> Iterator[tuple[Any, EvaluationResult | None]]:
        """(tag, records or None, as_of) in -> (tag, result or None) out, in order; None is passed through."""
        pending: deque[tuple[Any, Any]] = deque()
        limit = 2 * self.jobs
        for tag, records, as_of in chunks:
            job = self._pool.submit(_work, records, as_of) if records is not None else None
            pending.append((tag, job))
            while len(pending) > limit:
                yield self._take(pending)
        while pending:
            yield self._take(pending)

    @staticmethod
    def _take(pending: deque[tuple[Any, Any]]) -> tuple[Any, EvaluationResult | None]:
        tag, job = pending.popleft()
        if job is None:
            return tag, None
        rows, notices = job.result()
        return tag, EvaluationResult(findings=decode_findings(rows), notices=notices)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def terminate(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
