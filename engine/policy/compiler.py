"""Compiling checks into durable-rules rulesets.

Each check becomes a set of durable-rules rules, one per way a record can reach each status, such
that for any record exactly one of them matches (``docs/engine.md`` explains why):

* Conditions are judged in three-valued logic: true, false, or *unknown* when a field they need is
  missing. ``T(e)``, ``F(e)`` and ``U(e)`` below each produce a list of conjunctions of literal tests,
  mutually exclusive by construction — durable-rules fires an ``$or`` once per true branch, and a
  missing field matches neither a test nor its negation, so ORs are never handed to it.
* Arithmetic never reaches the engine (C doubles misjudge values on a threshold): every arithmetic
  sub-expression becomes a *derived* fact field computed in exact decimal by the evaluator; the
  engine compares fields and constants only. Every field a literal touches is guarded by ``$ex``
  (a field-to-field comparison with the right side missing matches anything).
* Every rule tests ``_k == <kind>`` positively, so no rule can match durable's own state fact
  (a rule made of negative tests only loops forever), and every check version is guarded by the
  record's date (``_d``) so only the version in force can fire.
"""

from __future__ import annotations

from typing import Any

from engine.policy.aggregates import compile_aggregates
from engine.policy.check_compiler import _compile_check
from engine.policy.check_schema import Check
from engine.policy.compiled import (
    _DURABLE_OP,
    _FLIP,
    _NEG,
    CAP,
    CODE_STATUS,
    MAX_RULES_PER_CHECK,
    REVIEW_CODES,
    STATUS_CODE,
    AggregateRef,
    Choice,
    CompiledAggregate,
    CompiledCheck,
    CompiledKind,
    Conj,
    Cumulative,
    Difference,
    Disagreement,
    Dnf,
    Literal_,
    Segment,
    Trajectory,
)
from engine.policy.expressions import ExpressionError, Resolver
from engine.policy.loader import MeasureSource, Pack, RuleError
from engine.policy.supersession import Supersession, supersessions
from engine.policy.three_valued import (
    MAX_ALPHA_STACK,
    _Compiler,
    _consistent,
    _const_compare,
    _prod,
    _segment_rules,
    _sort_key,
    literal_json,
    stack_bound,
)
from engine.records.catalog import Catalog

# What the compiler's callers import from here: its own functions and, re-exported, the compiled
# forms (compiled.py), the three-valued rule builder (three_valued.py), aggregates and supersession.
__all__ = [
    "_DURABLE_OP",
    "_FLIP",
    "_NEG",
    "CAP",
    "CODE_STATUS",
    "MAX_ALPHA_STACK",
    "MAX_RULES_PER_CHECK",
    "REVIEW_CODES",
    "STATUS_CODE",
    "AggregateRef",
    "Choice",
    "CompiledAggregate",
    "CompiledCheck",
    "CompiledKind",
    "Conj",
    "Cumulative",
    "Difference",
    "Disagreement",
    "Dnf",
    "Literal_",
    "Segment",
    "Supersession",
    "Trajectory",
    "_Compiler",
    "_consistent",
    "_const_compare",
    "_prod",
    "_resolver",
    "_segment_rules",
    "_sort_key",
    "compile_aggregates",
    "compile_kind",
    "compile_pack",
    "literal_json",
    "stack_bound",
    "supersessions",
]

# --- checks -> segments -> rules -------------------------------------------------------------------


def compile_pack(
    pack: Pack, catalog: Catalog, supersession: Supersession | None = None
) -> tuple[dict[str, CompiledKind], list[RuleError]]:
    errors: list[RuleError] = []
    by_kind: dict[str, list[tuple[MeasureSource, Check, int]]] = {}
    seen_ids: dict[str, str] = {}
    for ms in pack.measures:
        for ci, check in enumerate(ms.measure.checks):
            line = ms.doc.line_of(("checks", ci, "id"))
            if check.id in seen_ids:
                errors.append(
                    RuleError(
                        str(ms.path),
                        line,
                        f"checks[{ci}].id",
                        f"duplicate check id {check.id!r} (also in {seen_ids[check.id]})",
                        suggestion="give every check an id unique in the pack",
                    )
                )
                continue
            seen_ids[check.id] = f"{ms.path.name}:{line}"
            by_kind.setdefault(check.subject, []).append((ms, check, ci))
    out: dict[str, CompiledKind] = {}
    for kind, items in by_kind.items():
        if kind not in catalog.kinds:
            for ms, _check, ci in items:
                errors.append(
                    RuleError(
                        str(ms.path),
                        ms.doc.line_of(("checks", ci, "subject")),
                        f"checks[{ci}].subject",
                        f"no record vocabulary for kind {kind!r}",
                    )
                )
            continue
        ck, errs = compile_kind(pack, kind, items, catalog, supersession)
        errors.extend(errs)
        if ck is not None:
            out[kind] = ck
    return out, errors


def _resolver(catalog: Catalog, kind: str, extra: dict[str, str] | None = None) -> Resolver:
    def type_of(name: str) -> str:
        f = catalog.field(kind, name)
        assert f is not None
        return {
            "number": "number",
            "integer": "number",
            "boolean": "bool",
            "text": "text",
            "enum": "text",
            "date": "date",
        }[f.type]

    return Resolver(
        lambda n: catalog.resolve_field(kind, n), type_of, lambda n: catalog.suggest_field(kind, n), extra
    )


def compile_kind(
    pack: Pack,
    kind: str,
    items: list[tuple[MeasureSource, Check, int]],
    catalog: Catalog,
    supersession: Supersession | None = None,
) -> tuple[CompiledKind | None, list[RuleError]]:
    comp = _Compiler(kind, catalog, {a.id: a for ms in pack.measures for a in ms.measure.aggregates})
    errors: list[RuleError] = []
    checks: list[CompiledCheck] = []
    resolver = _resolver(catalog, kind)
    param_resolver = _resolver(catalog, kind, {"param": "number"})
    for ms, check, ci in items:
        base = ("checks", ci)

        def err(
            path: tuple,
            message: str,
            col: int | None = None,
            suggestion: str | None = None,
            ms: MeasureSource = ms,
            base: tuple = base,
        ) -> None:
            errors.append(
                RuleError(
                    str(ms.path),
                    ms.doc.line_of(base + path),
                    ".".join(map(str, base + path)),
                    message,
                    col,
                    suggestion,
                )
            )

        try:
            cc = _compile_check(
                comp,
                pack,
                ms,
                check,
                len(checks),
                resolver,
                param_resolver,
                err,
                supersession or Supersession(),
            )
        except ExpressionError as exc:
            err((), exc.message, exc.column, exc.suggestion)
            continue
        if cc is not None:
            checks.append(cc)
    if errors:
        return None, errors
    rule_index: dict[str, tuple[int, str]] = {}
    guard = {"_k": kind}
    # Every fact matches this rule, so no asserted record can go unhandled (durable raises on a
    # message that matches nothing, and deleting such a sid crashes it).
    seen = {"all": [{"m": {"$and": [guard, {"$ex": {"_i": 1}}]}}], "cap": CAP}
    shards: list[dict[str, Any]] = [{"seen": seen}]
    for cc in checks:
        rules: dict[str, Any] = {}
        for seg in cc.segments:
            for name, conj in seg.rules.items():
                lits = [
                    guard,
                    {"$gte": {"_d": float(seg.start.toordinal())}},
                    {"$lte": {"_d": float(seg.end.toordinal())}},
                ]
                lits += [literal_json(lit) for lit in sorted(conj, key=_sort_key)]
                rules[name] = {"all": [{"m": {"$and": lits}}], "cap": CAP}
                _, _, code, _ = name.split(".")
                rule_index[name] = (cc.index, code)
        if stack_bound({**shards[-1], **rules}) > MAX_ALPHA_STACK and len(shards[-1]) > 1:
            shards.append({"seen": seen})
        shards[-1].update(rules)
        if stack_bound(shards[-1]) > MAX_ALPHA_STACK:
            ms = next(m for m in pack.measures if m.measure is cc.measure)
            errors.append(
                RuleError(
                    str(ms.path),
                    cc.line,
                    f"checks.{cc.check.id}",
                    "condition too complex for durable-rules' alpha network; split the check",
                )
            )
    if errors:
        return None, errors
    ruleset = {name: rule for shard in shards for name, rule in shard.items()}
    # The fact carries only what literals test: record fields by name, derived values by key.
    keys = {
        k
        for cc in checks
        for seg in cc.segments
        for conj in seg.rules.values()
        for lit in conj
        for k in (lit[1:2] if lit[0] in ("ex", "nex") else lit[2:3] + (lit[3:4] if lit[0] == "ref" else ()))
    }
    fact_fields = {k for k in keys if not k.startswith("_")}
    return CompiledKind(
        kind=kind,
        checks=checks,
        derived=comp.derived,
        fact_fields=sorted(fact_fields),
        ruleset=ruleset,
        rule_index=rule_index,
        shards=shards,
    ), []
