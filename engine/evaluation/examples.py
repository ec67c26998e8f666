"""Running the examples embedded in rule files (``compliance rules test``), like ``opa test``.

Each example is a partial record of the check's subject kind and the status it must reach. It is
validated by the same record models and evaluated by the same engine as real submissions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.evaluation.evaluate import EngineName, Evaluator, History
from engine.policy.compiler import CompiledCheck
from engine.policy.policy import Policy
from engine.records.model import Normaliser, RawRecord, Record, SourceRef
from engine.records.record import record_date


@dataclass
class ExampleResult:
    check: CompiledCheck
    name: str
    expected: str
    actual: str | None
    message: str
    file: str
    line: int | None

    @property
    def passed(self) -> bool:
        return self.expected == self.actual


@dataclass
class TestReport:
    results: list[ExampleResult] = field(default_factory=list)

    @property
    def failures(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]

    def coverage(self) -> dict[str, set[str]]:
        """Check id -> statuses its passing examples reach."""
        cov: dict[str, set[str]] = {}
        for r in self.results:
            cov.setdefault(r.check.full_id, set())
            if r.passed and r.actual:
                cov[r.check.full_id].add(r.actual)
        return cov


def run_examples(
    policy: Policy, engine: EngineName = "durable", pack_ids: set[str] | None = None
) -> TestReport:
    evaluator = Evaluator(policy, engine)
    normaliser = Normaliser(policy.catalog)
    report = TestReport()
    for pack in policy.packs:
        if pack_ids is not None and pack.id not in pack_ids:
            continue
        for ck in pack.kinds.values():
            for cc in ck.checks:
                if not cc.segments:  # superseded (superseded_by) before it ever came into force
                    continue
                ms_doc_line = cc.line
                for ei, ex in enumerate(cc.check.examples):
                    data = {"id": f"example-{ei + 1}", "kind": cc.check.subject, **ex.record}
                    raw = RawRecord(source=SourceRef(file=cc.file, row=ms_doc_line), data=data)
                    rec, errors, unknown = normaliser.normalise(raw)
                    base = ExampleResult(cc, ex.name, ex.expect, None, "", cc.file, ms_doc_line)
                    if rec is None or unknown:
                        base.message = "; ".join(
                            [str(e.message) + (f" ({e.field})" if e.field else "") for e in errors]
                            + [f"unknown field {u}" for u in unknown]
                        )
                        report.results.append(base)
                        continue
                    as_of = ex.as_of or record_date(rec, policy.catalog) or cc.segments[0].start
                    if not any(s.start <= as_of <= s.end for s in cc.segments):
                        as_of = _clamp(as_of, cc)
                    src = SourceRef(file=cc.file, row=ms_doc_line)
                    past, problem = _records(
                        normaliser,
                        src,
                        "history record",
                        [{"id": data["id"], "kind": cc.check.subject, **p} for p in ex.history],
                    )
                    others, problem2 = _records(
                        normaliser,
                        src,
                        "batch record",
                        [{"id": f"batch-{i + 1}", **o} for i, o in enumerate(ex.batch)],
                    )
                    if problem or problem2:
                        base.message = problem or problem2
                        report.results.append(base)
                        continue
                    history = History()
                    for r in [rec, *past]:
                        history.add(r)
                    batch = [rec, *others]
                    # The example's date picks the rules; the day of review is after every year it
                    # names unless the example gives one (a year still open is judged on pace).
                    result = evaluator.evaluate(
                        batch, as_of=ex.review_date or dt.date.max, history=history, rules_date=as_of
                    )
                    found = [f for f in result.findings if f.check == cc.full_id and f.record_id == rec.id]
                    if len(found) != 1:
                        base.message = f"expected one finding for the check, got {len(found)}"
                    elif ex.review is not None and found[0].review != ex.review:
                        base.actual = f"{found[0].status} (review: {str(found[0].review).lower()})"
                        base.message = f"expected review: {str(ex.review).lower()}; {found[0].message}"
                    else:
                        base.actual, base.message = found[0].status, found[0].message
                    report.results.append(base)
    return report


def _records(normaliser: Normaliser, src: SourceRef, what: str, rows: list[dict]) -> tuple[list[Record], str]:
    """An example's other records (its subject's earlier years, or lower records of its batch), validated."""
    out: list[Record] = []
    for i, data in enumerate(rows):
        rec, errors, unknown = normaliser.normalise(RawRecord(source=src, data=data))
        if rec is None or unknown:
            return out, f"{what} {i + 1}: " + "; ".join(
                [str(e.message) for e in errors] + [f"unknown field {u}" for u in unknown]
            )
        out.append(rec)
    return out, ""


def _clamp(d: dt.date, cc: CompiledCheck) -> dt.date:
    first, last = cc.segments[0].start, cc.segments[-1].end
    return min(max(d, first), last)
