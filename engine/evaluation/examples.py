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
from engine.records.model import Normaliser, RawRecord, SourceRef, record_date


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


def run_examples(policy: Policy, engine: EngineName = "durable", pack_ids: set[str] | None = None) -> TestReport:
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
                        base.message = "; ".join([str(e.message) + (f" ({e.field})" if e.field else "")
                                                  for e in errors] + [f"unknown field {u}" for u in unknown])
                        report.results.append(base)
                        continue
                    as_of = ex.as_of or record_date(rec, policy.catalog) or cc.segments[0].start
                    if not any(s.start <= as_of <= s.end for s in cc.segments):
                        as_of = _clamp(as_of, cc)
                    history = History()
                    history.add(rec)
                    for hi, past in enumerate(ex.history):
                        prev, perrs, punknown = normaliser.normalise(RawRecord(
                            source=SourceRef(file=cc.file, row=ms_doc_line),
                            data={"id": data["id"], "kind": cc.check.subject, **past}))
                        if prev is None or punknown:
                            base.message = f"history record {hi + 1}: " + "; ".join(
                                [str(e.message) for e in perrs] + [f"unknown field {u}" for u in punknown])
                            break
                        history.add(prev)
                    if base.message:
                        report.results.append(base)
                        continue
                    result = evaluator.evaluate([rec], as_of=as_of, history=history)
                    found = [f for f in result.findings if f.check == cc.full_id]
                    if len(found) != 1:
                        base.message = f"expected one finding for the check, got {len(found)}"
                    else:
                        base.actual, base.message = found[0].status, found[0].message
                    report.results.append(base)
    return report


def _clamp(d: dt.date, cc: CompiledCheck) -> dt.date:
    first, last = cc.segments[0].start, cc.segments[-1].end
    return min(max(d, first), last)
