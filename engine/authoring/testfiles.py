"""Separate test files of a pack: ``<pack>/tests/*.yaml``, like OPA's ``_test`` files.

Embedded examples sit under each check; a pack may also keep longer cases apart::

    tests:
      - name: 亩均投资刚好达标
        check: m5.invest_per_mu        # a check of this pack (or pack:check)
        record: {category: 制造业重点项目, total_investment: 30000, land_area: 100}
        expect: compliant
        as_of: 2024-06-01              # optional: the date to judge on

They are run by ``compliance rules test`` with the same records models and engine as real input.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.policy.loader import RuleError
from engine.policy.terms import Status
from engine.records.yamlsource import YamlSourceError, load_yaml_file

TESTS_DIR = "tests"


class PackTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    check: str
    record: dict[str, Any]
    expect: Status
    as_of: dt.date | None = None


class PackTestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tests: list[PackTest] = Field(min_length=1)


def test_files(root: Path) -> list[Path]:
    d = root / TESTS_DIR
    return sorted(d.glob("*.y*ml")) if d.is_dir() else []


def load_tests(root: Path) -> tuple[list[tuple[Path, int | None, PackTest]], list[RuleError]]:
    """Every test case of the pack with its file and line; errors name file and line."""
    out: list[tuple[Path, int | None, PackTest]] = []
    errors: list[RuleError] = []
    for path in test_files(root):
        try:
            doc = load_yaml_file(path)
            parsed = PackTestFile.model_validate(doc.data)
        except YamlSourceError as exc:
            errors.append(RuleError(exc.file, exc.line, None, exc.message))
            continue
        except ValidationError as exc:
            for e in exc.errors():
                errors.append(
                    RuleError(str(path), doc.line_of(tuple(e["loc"])), ".".join(map(str, e["loc"])), e["msg"])
                )
            continue
        for i, t in enumerate(parsed.tests):
            out.append((path, doc.line_of(("tests", i)), t))
    return out, errors


def run_pack_tests(policy: Any, roots: list[Path]) -> tuple[list[Any], list[RuleError]]:
    """Run the test files of the packs at `roots` -> (ExampleResult list, file errors)."""
    from engine.evaluation.evaluate import Evaluator
    from engine.evaluation.examples import ExampleResult
    from engine.records.model import Normaliser, RawRecord, SourceRef
    from engine.records.record import record_date

    evaluator = Evaluator(policy)
    normaliser = Normaliser(policy.catalog)
    results: list[ExampleResult] = []
    errors: list[RuleError] = []
    for cp in policy.packs:
        if cp.pack.root.resolve() not in {r.resolve() for r in roots}:
            continue
        cases, errs = load_tests(cp.pack.root)
        errors.extend(errs)
        for path, line, t in cases:
            full = t.check if ":" in t.check else f"{cp.id}:{t.check}"
            cc = policy.find_check(full)
            if cc is None:
                errors.append(RuleError(str(path), line, "check", f"no check {full!r} in the loaded packs"))
                continue
            raw = RawRecord(
                source=SourceRef(file=str(path), row=line),
                data={"id": f"test-{line}", "kind": cc.check.subject, **t.record},
            )
            rec, rec_errors, unknown = normaliser.normalise(raw)
            res = ExampleResult(cc, t.name, t.expect, None, "", str(path), line)
            if rec is None or unknown:
                res.message = "; ".join(
                    [str(e.message) + (f" ({e.field})" if e.field else "") for e in rec_errors]
                    + [f"unknown field {u}" for u in unknown]
                )
            else:
                as_of = (
                    t.as_of
                    or record_date(rec, policy.catalog)
                    or (cc.segments[0].start if cc.segments else None)
                )
                # The test's date picks the rules; the day of review lies after every year it names.
                found = [
                    f
                    for f in evaluator.evaluate([rec], as_of=dt.date.max, rules_date=as_of).findings
                    if f.check == cc.full_id
                ]
                if len(found) != 1:
                    res.message = f"expected one finding for the check on {as_of}, got {len(found)}"
                else:
                    res.actual, res.message = found[0].status, found[0].message
            results.append(res)
    return results, errors
