"""Compiling a pack's aggregates: counts and sums of lower records that meet an inclusion check."""

from __future__ import annotations

from engine.policy.compiled import CompiledAggregate
from engine.policy.loader import MeasureSource, Pack, RuleError
from engine.records.catalog import Catalog


def compile_aggregates(pack: Pack, catalog: Catalog) -> tuple[dict[str, CompiledAggregate], list[RuleError]]:
    """The pack's aggregates, each checked against the vocabulary and the pack's inclusion checks."""
    errors: list[RuleError] = []
    out: dict[str, CompiledAggregate] = {}
    checks = {c.id: c for ms in pack.measures for c in ms.measure.checks}
    for ms in pack.measures:
        for ai, agg in enumerate(ms.measure.aggregates):

            def err(key: str, message: str, ms: MeasureSource = ms, ai: int = ai) -> None:
                errors.append(
                    RuleError(
                        str(ms.path),
                        ms.doc.line_of(("aggregates", ai, key)),
                        f"aggregates.{ai}.{key}",
                        message,
                    )
                )

            full = f"{pack.meta.id}:{agg.id}"
            if full in out:
                err("id", f"duplicate aggregate id {agg.id!r}")
                continue
            if agg.over not in catalog.kinds:
                err("over", f"no record vocabulary for kind {agg.over!r}")
                continue
            if agg.subject not in catalog.kinds:
                err("subject", f"no record vocabulary for kind {agg.subject!r}")
                continue
            check = checks.get(agg.check)
            if check is None:
                err("check", f"no check {agg.check!r} in this pack")
                continue
            if check.subject != agg.over:
                err(
                    "check",
                    f"check {agg.check} judges {check.subject} records, the aggregate counts {agg.over}",
                )
                continue
            if check.role != "inclusion":
                err("check", f"check {agg.check} decides what counts: give it role: inclusion")
                continue
            if agg.sum is not None and catalog.resolve_field(agg.over, agg.sum) is None:
                err("sum", f"{agg.over} records have no field {agg.sum!r}")
                continue
            if agg.by_county and (
                catalog.field(agg.over, "county") is None or catalog.field(agg.subject, "county") is None
            ):
                err("by_county", "both kinds need a county field to be grouped by county")
                continue
            out[full] = CompiledAggregate(
                full,
                agg.title,
                agg.over,
                agg.subject,
                f"{pack.meta.id}:{agg.check}",
                catalog.resolve_field(agg.over, agg.sum) if agg.sum else None,
                agg.unit,
                agg.by_county,
            )
    return out, errors
