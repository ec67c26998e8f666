"""Streaming evaluation: files in, chunks of (records, errors, findings) out.

Records are read and validated as a stream and evaluated in chunks of ``chunk_size`` records, so
memory does not grow with the file and each chunk can be stored in its own transaction. Chunk
numbers depend only on the input and the chunk size, so a run can be resumed by skipping the chunks
already stored.

Cumulative targets sum a subject's yearly records, which may stand anywhere in the input: when the
policy has such checks, a first pass collects just those yearly figures (small) before evaluating.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.evaluation.context import AggregateTable, Contribution, History
from engine.evaluation.evaluate import EngineName, Evaluator, finding_parts
from engine.evaluation.findings import Finding, Notice
from engine.policy.compiler import Cumulative
from engine.policy.expression_tree import prior_parts
from engine.policy.policy import Policy
from engine.records.intake import FileProblem, iter_intake, sort_item
from engine.records.model import Record, SourceRef
from engine.records.record import RecordError

if TYPE_CHECKING:
    from engine.store.runs import StoreTarget

DEFAULT_CHUNK = 2000

# Which findings come back from worker processes: all (True), none but their counts (False), or only
# those of these statuses and those flagged for review, with each record's counts (what a person reads).
KeepFindings = bool | frozenset[str]


def record_key(kind: str, record_id: str, source: SourceRef | None) -> tuple[Any, ...]:
    """One record among a batch's: its id and where it was read (one subject's yearly reports share an id)."""
    return (kind, record_id, source.file, source.sheet, source.row) if source else (kind, record_id)


def counts_by_record(findings: Iterable[Finding]) -> dict[tuple[Any, ...], dict[str, int]]:
    """Each record's findings by status, and "review": those flagged for review (by record_key)."""
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for f in findings:
        c = out.setdefault(record_key(f.kind, f.record_id, f.source), {})
        c[f.status] = c.get(f.status, 0) + 1
        if f.review:
            c["review"] = c.get("review", 0) + 1
    return out


@dataclass
class ChunkResult:
    index: int
    records: list[Record] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    file_problems: list[FileProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skipped: bool = False  # already stored by an earlier, interrupted run
    stored: bool = False  # stored by the worker process that evaluated it
    counts: dict[str, int] | None = None  # findings by status, set when the findings stayed in the worker
    parts: list[tuple[Any, ...]] | None = (
        None  # the findings as FindingParts (findings.py), when not as models
    )
    contributions: list[Contribution] = field(default_factory=list)  # what its records add to aggregates
    tallies: list[Any] = field(default_factory=list)  # rows read per file (records.intake.FileTally)
    # With a selective keep (KeepFindings as a set of statuses) the findings sent back are only those
    # of these statuses or flagged for review; then each record's counts come here, by (kind, id).
    record_counts: dict[tuple[Any, ...], dict[str, int]] | None = None  # by record_key

    def status_counts(self) -> dict[str, int]:
        """Findings by status (from the findings, or from the worker when they were not sent back)."""
        if self.counts is not None:
            return dict(self.counts)
        if self.parts is not None:
            return dict(Counter(p[2] for p in self.parts))
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.status] = out.get(f.status, 0) + 1
        return out


def cumulative_fields(policy: Policy) -> dict[str, set[str]]:
    """Kind -> yearly fields that some cumulative target sums or some prior-year figure reads."""
    out: dict[str, set[str]] = {}
    for cp in policy.packs:
        for kind, ck in cp.kinds.items():
            for spec in ck.derived.values():
                if isinstance(spec, Cumulative):
                    out.setdefault(kind, set()).add(spec.field)
            from engine.evaluation.evaluate import _KindPlan

            for name in _KindPlan(ck, policy).priors:
                parts = prior_parts(name)
                if parts:
                    out.setdefault(kind, set()).add(parts[0])
    return out


def deferred_kinds(policy: Policy) -> frozenset[str]:
    """Kinds whose checks read aggregates of lower records: evaluated after every other record."""
    return frozenset(a.subject for a in policy.aggregates().values())


def collect_history(paths: Sequence[str | Path], policy: Policy, kind: str | None = None) -> History:
    """First pass for cumulative targets: keep only the yearly figures they sum."""
    wanted = cumulative_fields(policy)
    history = History()
    if not wanted:
        return history
    from engine.records.headers import KIND_KEYS, split_header
    from engine.records.model import Normaliser, RawRecord
    from engine.records.readers import read_records
    from engine.records.readitems import ReadError

    normaliser = Normaliser(policy.catalog)
    seen: set[tuple[str, str, object]] = set()
    for path in paths:
        try:
            first = True
            for raw in read_records(path, policy.catalog, kind):
                if not isinstance(raw, RawRecord):
                    continue
                if first and str(path).lower().endswith(".csv"):
                    # Every row of a CSV file has its header: without a kind column, all rows are of
                    # the --kind given or of the kind the header names, so one row decides the file.
                    first = False
                    if not any(str(h) in KIND_KEYS or split_header(str(h))[0] in KIND_KEYS for h in raw.data):
                        k = raw.default_kind or normaliser.infer_kind(list(raw.data))
                        if k not in wanted:
                            break
                # Only records of a kind some cumulative target sums are validated here (a file of
                # projects is not validated twice); the kind is found as Normaliser.normalise finds it.
                _, kind_raw = normaliser._identity(raw.data, KIND_KEYS)
                k = policy.catalog.resolve_kind(str(kind_raw)) if kind_raw is not None else raw.default_kind
                if k is None and kind_raw is None:
                    k = normaliser.infer_kind(list(raw.data))
                if k not in wanted:
                    continue
                item, _, _ = normaliser.normalise(raw)
                if item is None or item.kind not in wanted:
                    continue
                key = (item.kind, item.id, item.values.get("report_year"))
                if key in seen:  # a duplicate is rejected by intake; the first one counts
                    continue
                seen.add(key)
                keep = {f: v for f, v in item.values.items() if f in wanted[item.kind] or f == "report_year"}
                history.add(item.model_copy(update={"values": keep}))
        except ReadError:
            continue  # reported by the evaluating pass
    return history


def evaluate_files(
    paths: Sequence[str | Path],
    policy: Policy,
    *,
    kind: str | None = None,
    as_of: dt.date | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    engine: EngineName = "durable",
    skip_chunks: frozenset[int] = frozenset(),
    history: History | None = None,
    jobs: int = 1,
    store_to: StoreTarget | None = None,
    keep_findings: KeepFindings = True,
    rules_date: dt.date | None = None,
    stored: Sequence[Record] = (),
) -> Iterator[ChunkResult]:
    """Yield one ChunkResult per `chunk_size` valid records (errors travel with the chunk they fall in).

    With ``jobs`` > 1 the chunks are evaluated in that many worker processes; they are still
    yielded in input order with the same findings as ``jobs=1``. Given ``store_to``, each worker
    also stores the chunks it evaluated (``chunk.stored``), so storing is spread over the cores too;
    without ``keep_findings`` the findings stay in the worker and only their counts come back; with a
    set of statuses only those findings (and the review-flagged ones) come back, with each record's counts.
    With one job nothing is stored here: the caller stores each chunk it is given.

    ``stored`` are the latest stored versions of records of earlier runs (from the store): context only,
    never judged or stored again. They give earlier years to baselines and prior-year figures, and
    their lower records count in aggregates where the batch has no record of the same identity.
    """
    if history is None:
        history = collect_history(paths, policy, kind)
    for r in stored:
        history.add(r, origin=r.source.file)  # the batch's own report of a year wins (added first)
    conflicts = [
        f"{name}{year}年有多份报告,字段{field}不一致:取{kept},另一份为{other} "
        f"(two reports of one year disagree; the first is used)"
        for (_, name), year, field, kept, other in history.conflicts
    ]
    # Records that read counts of lower records (a city's 技改 projects) wait until every other
    # record has been evaluated; they come last, in chunks numbered after the rest.
    deferred = deferred_kinds(policy)
    held: list[Record] = []
    aggregates = AggregateTable()
    chunks = _warn_first(
        read_chunks(paths, policy, kind=kind, chunk_size=chunk_size, hold=deferred, held=held), conflicts
    )
    counted = {a.over for a in policy.aggregates().values()}
    stored_lower = [r for r in stored if r.kind in counted]
    seen: set[tuple[str, str, Any]] = set()  # identities of the batch's lower records (only when needed)

    def note(chunk: ChunkResult) -> ChunkResult:
        if stored_lower:
            seen.update(
                (r.kind, r.id, r.values.get("report_year")) for r in chunk.records if r.kind in counted
            )
        return chunk

    def count_stored(evaluator: Evaluator) -> None:
        rest = [r for r in stored_lower if (r.kind, r.id, r.values.get("report_year")) not in seen]
        if rest:
            evaluator.evaluate(rest, as_of=as_of, history=history, parts=True, aggregates=aggregates)

    if jobs <= 1:
        evaluator = Evaluator(policy, engine, rules_date)
        last = -1
        as_parts = keep_findings is False  # nobody reads them as models: as parts, for the store
        for chunk in chunks:
            last = chunk.index
            yield note(_finish(chunk, evaluator, as_of, history, skip_chunks, aggregates, as_parts))
        count_stored(evaluator)
        for chunk in _held_chunks(held, last + 1, chunk_size):
            yield _finish(chunk, evaluator, as_of, history, skip_chunks, aggregates, as_parts)
        return
    from engine.pipeline.workers import WorkerPool

    with WorkerPool(policy, history, engine, jobs, store_to=store_to, rules_date=rules_date) as pool:
        last = -1
        for chunk in pool.map_chunks(chunks, as_of, skip_chunks, keep_findings):
            last = chunk.index
            aggregates.add_all(chunk.contributions)
            yield note(chunk)
        if stored_lower and held:
            count_stored(Evaluator(policy, engine, rules_date))
        if held:
            yield from pool.map_chunks(
                _held_chunks(held, last + 1, chunk_size), as_of, skip_chunks, keep_findings, aggregates
            )


def _warn_first(chunks: Iterator[ChunkResult], warnings: list[str]) -> Iterator[ChunkResult]:
    for i, chunk in enumerate(chunks):
        if i == 0 and warnings:
            chunk.warnings.extend(warnings)
        yield chunk


def _held_chunks(held: list[Record], first: int, chunk_size: int) -> Iterator[ChunkResult]:
    for i in range(0, len(held), chunk_size):
        yield ChunkResult(index=first + i // chunk_size, records=held[i : i + chunk_size])


def read_chunks(
    paths: Sequence[str | Path],
    policy: Policy,
    *,
    kind: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    hold: frozenset[str] = frozenset(),
    held: list[Record] | None = None,
) -> Iterator[ChunkResult]:
    """The input as chunks of `chunk_size` valid records (with the errors read alongside), not evaluated.

    Records of a kind in `hold` are appended to `held` instead (the caller evaluates them last).
    """
    # The cyclic collector is paused while a chunk fills: its thousands of records (seven tracked
    # objects each) form no cycles, and scanning them again and again as they are made was a sixth
    # of the time to read them. It runs as usual whenever the caller has the chunk.
    enabled = gc.isenabled()
    gc.disable()
    try:
        chunk = ChunkResult(index=0)
        full: ChunkResult | None = None  # a chunk with its records complete, still taking what follows
        for item in iter_intake(paths, policy.catalog, kind):
            is_record = isinstance(item, Record)
            if is_record and held is not None and cast(Record, item).kind in hold:
                held.append(cast(Record, item))
                continue
            if full is not None:
                if not is_record:  # a file's tally, a warning or an error after its last record
                    sort_item(item, full)
                    continue
                yield _collecting(full, enabled)
                gc.disable()
                full = None
            sort_item(item, chunk)
            if is_record and len(chunk.records) >= chunk_size:
                full, chunk = chunk, ChunkResult(index=chunk.index + 1)
        if full is not None:
            yield _collecting(full, enabled)
            gc.disable()
        if chunk.records or chunk.errors or chunk.file_problems or chunk.warnings or chunk.index == 0:
            yield _collecting(chunk, enabled)
    finally:
        if enabled:
            gc.enable()


def _collecting(chunk: ChunkResult, enabled: bool) -> ChunkResult:
    """The chunk, with the collector back as the caller had it while the caller holds the chunk (the
    generator pauses it again when resumed)."""
    if enabled:
        gc.enable()
    return chunk


def _finish(
    chunk: ChunkResult,
    evaluator: Evaluator,
    as_of: dt.date | None,
    history: History,
    skip: frozenset[int],
    aggregates: AggregateTable,
    as_parts: bool = False,
) -> ChunkResult:
    if chunk.index in skip:
        # Stored by the interrupted run; its lower records still count (evaluated, not stored again).
        if chunk.records:
            aggregates.add_all(
                evaluator.evaluate(chunk.records, as_of=as_of, history=history, parts=True).contributions
            )
        chunk.skipped = True
        return chunk
    result = evaluator.evaluate(
        chunk.records, as_of=as_of, history=history, aggregates=aggregates, parts=as_parts
    )
    chunk.findings, chunk.notices, chunk.contributions = result.findings, result.notices, result.contributions
    if result.parts is not None:  # values and messages built only now, as the store takes them
        chunk.parts = finding_parts(result.parts)
    return chunk
