"""One batch from files to the store: read → evaluate → store, counting every row on the way.

The command line and the web workbench both run batches through this class, so a run is begun,
resumed, stored and finished the same way from either. Evaluation and the store know nothing of
each other; a batch hands each evaluated chunk to the run's writer (or, with worker processes,
lets each worker store the chunks it evaluated).

A batch that yields no usable record stores no run: a failed evaluation must not become "the
latest run" that letters and diffs then read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, TypeVar

from engine.evaluation.evaluate import EngineName
from engine.pipeline.stream import DEFAULT_CHUNK, ChunkResult, KeepFindings, evaluate_files
from engine.policy.policy import Policy
from engine.records.intake import FileProblem
from engine.records.record import Record, RecordError

if TYPE_CHECKING:
    from engine.store.runs import ResumePlan, RunSummary, RunWriter, StoreTarget
    from engine.store.store import Store

T = TypeVar("T")

# Row errors kept in the tally for a caller to list (all of them go to the store and the stream).
KEEP_ERRORS = 1000


class BatchError(Exception):
    """The store failed; the message is for the reviewer (Chinese first)."""

    def __init__(self, message: str, run_id: int | None = None):
        super().__init__(message)
        self.run_id = run_id


@dataclass
class BatchOptions:
    reviewer: str | None = None
    as_of: dt.date | None = None  # the day of review (a year not yet ended is judged on pace)
    rules_date: dt.date | None = None
    kind: str | None = None
    engine: EngineName = "durable"
    chunk_size: int = DEFAULT_CHUNK
    jobs: int = 1
    # False: findings stay in the workers (only their counts come back); a set of statuses: only those
    # and the review-flagged ones come back from workers, with each record's counts (stream.KeepFindings)
    keep_findings: KeepFindings = True
    rules_dirs: tuple[str, ...] = ()


@dataclass
class BatchTally:
    """Every input row accounted for: read = evaluated + rejected + blank (plus field errors counted)."""

    n_read: int = 0
    n_blank: int = 0
    n_valid: int = 0
    n_errors: int = 0  # record errors of any kind
    n_field_errors: int = 0  # a field left out, the record still evaluated
    n_sheets: int = 0  # unusable sheets (an error of a whole sheet, not of a row)
    n_file_problems: int = 0
    n_baseline: int = 0  # records of the baseline period: kept, not judged
    n_notices: int = 0
    n_chunks: int = 0
    tallied: bool = False  # the readers counted rows (every reader does; kept for old chunk sources)
    counts: dict[str, int] = field(default_factory=dict)  # findings by status
    errors: list[RecordError] = field(default_factory=list)  # the first KEEP_ERRORS
    file_problems: list[FileProblem] = field(default_factory=list)
    _rejected: set[tuple[str, str | None, int | None]] = field(default_factory=set)

    @property
    def rejected_rows(self) -> int:
        return len(self._rejected)

    @property
    def n_findings(self) -> int:
        return sum(self.counts.values())

    def add(self, chunk: ChunkResult) -> None:
        self.n_chunks += 1
        self.n_valid += len(chunk.records)
        self.n_errors += len(chunk.errors)
        for e in chunk.errors:
            if not e.row_rejected:
                self.n_field_errors += 1
            elif e.source.row is None:
                self.n_sheets += 1
            else:
                self._rejected.add((e.source.file, e.source.sheet, e.source.row))
            if len(self.errors) < KEEP_ERRORS:
                self.errors.append(e)
        for t in chunk.tallies or ():
            self.tallied = True
            self.n_read += t.rows_read
            self.n_blank += t.blank_rows
        self.n_file_problems += len(chunk.file_problems)
        self.file_problems.extend(chunk.file_problems)
        self.n_notices += len(chunk.notices)
        self.n_baseline += sum(1 for n in chunk.notices if n.category == "baseline")
        for status, n in chunk.status_counts().items():
            self.counts[status] = self.counts.get(status, 0) + n

    @property
    def only_baselines(self) -> bool:
        """Every record is a baseline report: stored for later runs, nothing to judge."""
        return bool(self.n_valid) and not self.n_findings and self.n_baseline == self.n_valid


class Batch:
    """A run over `paths`: iterate `chunks()`, then call `finish()`.

    With a store the run is begun when the first chunk arrives (or resumed from `resume`); without
    one nothing is stored. `tally` is current after each chunk.
    """

    def __init__(
        self,
        policy: Policy,
        paths: Sequence[str],
        *,
        store: Store | None = None,
        options: BatchOptions | None = None,
        resume: ResumePlan | None = None,
    ):
        self.policy, self.paths, self.store = policy, list(paths), store
        self.options = options or BatchOptions()
        self.resume = resume
        self.tally = BatchTally()
        self._writer: RunWriter | None = None
        self._failed = False

    @property
    def run_id(self) -> int | None:
        return self._writer.run_id if self._writer is not None else None

    @property
    def resumed_chunks(self) -> int:
        return len(self.resume.committed) if self.resume is not None else 0

    def chunks(self) -> Iterator[ChunkResult]:
        """The batch's chunks in input order, each evaluated and (with a store) stored."""
        o = self.options
        stored: list[Record] = []
        store_to: StoreTarget | None = None
        store = self.store
        if store is not None:
            writer = self._begin(store)
            from engine.pipeline.context import stored_context

            stored = self._guard(lambda: stored_context(store, self.policy))
            if o.jobs > 1:
                store_to = writer.hand_over()
        chunks = evaluate_files(
            self.paths,
            self.policy,
            kind=o.kind,
            as_of=o.as_of,
            engine=o.engine,
            chunk_size=o.chunk_size,
            skip_chunks=self._writer.committed if self._writer else frozenset(),
            jobs=o.jobs,
            store_to=store_to,
            keep_findings=o.keep_findings,
            rules_date=o.rules_date,
            stored=stored,
        )
        from engine.store.errors import StoreError

        try:
            for chunk in chunks:
                self._save(chunk)
                self.tally.add(chunk)
                yield chunk
        except StoreError as exc:  # raised in a worker that stored its chunk
            self._fail(exc)

    def finish(self) -> RunSummary | None:
        """Mark the run complete; a run with no usable record is removed instead (None)."""
        writer, store = self._writer, self.store
        if writer is None or store is None:  # a writer is only ever begun with a store
            return None
        from engine.store.removal import discard_run

        try:
            if not self.tally.n_valid and self.resume is None:
                discard_run(store, writer.run_id)
                return None
            return writer.finish()
        except Exception as exc:
            self._fail(exc)
        finally:
            store.close()

    # --- the store -------------------------------------------------------------------------------

    def _begin(self, store: Store) -> RunWriter:
        from engine.store.runs import begin_run, resume_run

        o = self.options
        resume = self.resume
        if resume is not None:
            self._writer = self._guard(lambda: resume_run(store, resume, self.policy))
            return self._writer
        self._writer = self._guard(
            lambda: begin_run(
                store,
                self.policy,
                inputs=self.paths,
                reviewer=o.reviewer,
                as_of=o.as_of,
                kind=o.kind,
                chunk_size=o.chunk_size,
                engine_name=o.engine,
                rules_dirs=o.rules_dirs,
            )
        )
        return self._writer

    def _save(self, chunk: ChunkResult) -> None:
        writer = self._writer
        if writer is None:
            return
        if chunk.stored:  # by the worker that evaluated it
            writer.committed = writer.committed | {chunk.index}
            return
        self._guard(lambda: writer.save_chunk(chunk))

    def _guard(self, fn: Callable[[], T]) -> T:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.store.database import StoreError

        try:
            return fn()
        except (StoreError, SQLAlchemyError) as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        reason = str(getattr(exc, "orig", None) or exc)
        where = self.store.display if self.store is not None else ""
        if self._writer is not None and self._writer.committed:
            raise BatchError(
                f"存储失败 store {where}: {reason};此前已保存的数据块保留,可用 "
                f"`compliance evaluate --resume {self._writer.run_id}` 续评",
                self._writer.run_id,
            ) from exc
        raise BatchError(f"存储失败 store {where}: {reason}", self.run_id) from exc
