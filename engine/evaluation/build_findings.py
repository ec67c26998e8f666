"""Building findings from outcomes: what one check version's findings share, made once, and each
finding's own parts (value, threshold, missing fields, message), made only when asked for.

The evaluator hands out a finding in its compact form, ``(prepared record, version, outcome code)``;
``VersionFindings.finding`` makes the Finding model, ``VersionFindings.parts`` (and ``finding_parts``
for a list, compact_findings.py) the FindingParts tuple the store keeps. A message that is the same
for every finding of its check version and outcome is one ``SharedText`` object, which the store keeps
once. What an insufficient_data finding lacks is missing_fields.py's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.evaluation.findings import VERSION_FIELDS, Finding, Message, value_text
from engine.evaluation.missing_fields import missing_for
from engine.evaluation.prepare import Prepared as _Prepared
from engine.evaluation.prepare import _figure
from engine.policy.compiler import CODE_STATUS, REVIEW_CODES, CompiledCheck, CompiledKind, Segment
from engine.policy.expression_text import render
from engine.policy.expression_tree import Const, Expr, FieldRef
from engine.policy.formulas import evaluate_number
from engine.policy.policy import CompiledPack
from engine.records.catalog import Catalog


def _counted_notes(pack: CompiledPack, cc: CompiledCheck, prep: _Prepared) -> list[str]:
    """What a reviewer should know about a counted figure: lower records counted once though repeated,
    and those whose inclusion could not be judged (not counted)."""
    agg = pack.aggregates.get(f"{cc.pack_id}:{cc.check.counted}")
    year = prep.values.get("report_year")
    if agg is None or prep.aggregates is None or not isinstance(year, int):
        return []
    group = prep.aggregates.group(agg.id, year, prep.values.get("county") if agg.by_county else None)
    notes = []
    if group is not None and group.repeated:
        notes.append(f"统计说明:{group.repeated}份重复报送的下级记录(同一对象同一年度)只计一次")
    if group is not None and group.unknown:
        notes.append(f"统计说明:{group.unknown}条下级记录资料不足,无法判断是否计入,未计入")
    return notes


EXCLUDED_MESSAGE = "{title}:不计入(实际值{value}{unit},未达到{op}{threshold}{unit}的计入标准)。"
_BASIS_NOTE = {"reported": "(按填报的现成数值判定,未按分项复核)", "counted": "(按下级记录统计数判定)"}


def _with_notes(text: str, extras: dict[str, Any], notes: list[str] | None) -> str:
    """The finding's sentence, then how its figure was obtained, counting notes and review reasons."""
    basis, reasons = _BASIS_NOTE.get(extras.get("basis") or "", ""), extras["review_reasons"]
    if not basis and not notes and not reasons:
        return text  # unchanged: a SharedText stays shared
    out = text + basis
    out += "".join(f"({n})" for n in notes or ())
    return out + "".join(f"【{r}】" for r in reasons)


class VersionFindings:
    """What the findings of one check version share, prepared once: the operands to report, and
    per outcome code the fixed fields of the finding and its message."""

    def __init__(
        self, pack: CompiledPack, ck: CompiledKind | None, cc: CompiledCheck, seg: Segment, catalog: Catalog
    ):
        self.pack, self.cc, self.seg, self.catalog = pack, cc, seg, catalog
        formulas = {spec: key for key, spec in ck.derived.items()} if ck is not None else {}
        self.value = _operand(seg.final.left, formulas)
        self.threshold = _operand(seg.threshold, formulas)
        self.trajectory = _operand(seg.trajectory, formulas) if seg.trajectory is not None else None
        self.leads = tuple(cc.measure.lead_departments)
        self.version = (
            f"v{seg.version} ({seg.start}–{seg.end}); 阈值版本{seg.threshold_version}"
            f"({seg.threshold_value.start}起"
            f"{': ' + seg.threshold_value.reference if seg.threshold_value.reference else ''})"
            + (f"; 修订{seg.amendment}" if seg.amendment else "")
            + (f"; 取代{'、'.join(seg.supersedes)}" if seg.supersedes else "")
        )
        self._plans: dict[str, tuple[dict[str, Any], Message, bool]] = {}
        self._plain = cc.choice is None and cc.disagreement is None and cc.baseline is None
        self._key: tuple[Any, ...] | None = None

    def _plan(self, code: str) -> tuple[dict[str, Any], Message, bool]:
        plan = self._plans.get(code)
        if plan is None:
            cc, seg, check, pack = self.cc, self.seg, self.cc.check, self.pack
            status = CODE_STATUS[code]
            applies = ""
            if status == "not_applicable" and seg.applies is not None:
                labels = {n: f.label for n, f in self.catalog.kind(check.subject).fields.items()}
                applies = f"适用条件:{render(seg.applies, labels).strip('()')}"
            template_text = check.messages.get(status)  # type: ignore[call-overload]
            if code == "x":
                template_text = check.messages.get("not_applicable") or EXCLUDED_MESSAGE
            message = Message(
                status,
                check.title,
                unit=check.unit,
                op=check.op,
                approx=check.approx,
                aspirational=check.aspirational,
                due=check.due,
                applies=applies,
                interpretation=check.interpretation,
                template=template_text,
                nature=check.nature,
            )
            # Every field in Finding's order; those left None are filled per finding.
            template = dict(
                record_id=None,
                kind=None,
                record_name=None,
                source=None,
                pack=pack.id,
                document=pack.pack.meta.number,
                measure=cc.measure.measure,
                measure_title=cc.measure.title,
                section=cc.measure.section,
                check=cc.full_id,
                check_title=check.title,
                check_version=self.version,
                nature=check.nature,
                status=status,
                value=None,
                threshold=None,
                target=None,
                due=check.due,
                unit=check.unit,
                op=check.op,
                message=None,
                source_text=check.source,
                interpretation=check.interpretation,
                lead_departments=None,
                missing_fields=None,
                approx=check.approx,
                aspirational=check.aspirational,
                as_of=None,
                review=code in REVIEW_CODES,
                review_reasons=None,
                basis=None,
                reported=None,
                counted=None,
                baseline=None,
                baseline_year=None,
                baseline_source=None,
            )
            trajectory = status in ("on_track", "behind_schedule") and seg.trajectory is not None
            plan = self._plans[code] = (template, message, trajectory)
        return plan

    def _own(self, prep: _Prepared, code: str) -> tuple[dict[str, Any], Any, Any, Any, list[str], str]:
        """(template, value, threshold, target, missing fields, message): a finding's own parts."""
        template, message, trajectory = self._plans.get(code) or self._plan(code)
        values = prep.values
        value = self.value(prep)
        threshold = self.threshold(prep)
        target = None
        if trajectory and self.trajectory is not None:
            target = threshold
            threshold = self.trajectory(prep)
        missing: list[str] = []
        if code == "i":
            missing = missing_for(self.cc, self.seg, self.catalog, prep)
        text = message.text
        if text is None:
            text = message.render(value, threshold, target, values.get("report_year"), missing)
        return template, value, threshold, target, missing, text

    def extras(self, prep: _Prepared, code: str, value: Any, threshold: Any) -> dict[str, Any]:
        """Review reasons, how the judged figure was obtained, the figures beside it, the baseline used."""
        out: dict[str, Any] = {"review_reasons": []}
        if self._plain and code not in REVIEW_CODES:
            return out
        cc, check, values = self.cc, self.cc.check, prep.values
        unit = "" if check.unit in (None, "%") else check.unit
        pct = check.unit == "%"

        def q(v: Any) -> str:
            return value_text(v) + ("%" if pct else unit)

        reasons: list[str] = []
        if cc.choice is not None and CODE_STATUS[code] not in ("not_applicable", "insufficient_data"):
            _, primary, secondary, b1, b2 = cc.choice
            pv = _figure(primary, values)
            sv = _figure(secondary, values)
            out["basis"] = b1 if pv is not None else (b2 if sv is not None else None)
            if b2 == "reported":
                out["reported"] = sv
            else:
                out["reported"], out["counted"] = pv, sv
            if b2 == "counted":
                out["notes"] = _counted_notes(self.pack, cc, prep)
            if cc.disagreement is not None and values.get(cc.disagreement) == 1:
                if b2 == "reported":
                    reasons.append(
                        f"需人工复核:填报的现成数值{q(sv)}与按分项计算的{q(pv)}不一致(超出舍入误差)"
                    )
                else:
                    reasons.append(f"需人工复核:报告所列{q(pv)}与按下级记录统计的{q(sv)}不一致")
        soft = check.soft_on
        if code in REVIEW_CODES and soft is not None:
            if check.nature == "duty":
                reasons.append(f"需人工复核:原文为{soft.text},未落实的情形需结合实际判断")
            elif isinstance(value, Decimal) and isinstance(threshold, Decimal):
                band = soft.band_of(threshold)
                if abs(value - threshold) <= band:
                    reasons.append(
                        f"需人工复核:原文为{soft.text},实际值{q(value)}在{q(threshold)}"
                        f"±{value_text(band)}{'个百分点' if pct else unit}的范围内"
                    )
        if code in REVIEW_CODES and not reasons:
            reasons.append("需人工复核")
        out["review_reasons"] = reasons
        if cc.baseline is not None and CODE_STATUS[code] in ("on_track", "behind_schedule"):
            base = evaluate_number(cc.baseline, values)
            out["baseline"], out["baseline_year"] = base, cc.baseline_year
            source = (
                prep.history.describe(prep.record, cc.baseline_year)
                if prep.history and cc.baseline_year
                else None
            )
            if source is None and check.baseline is not None and check.baseline.reference is not None:
                source = f"参考值:{check.baseline.reference.source}"
            out["baseline_source"] = source
        return out

    def finding(self, prep: _Prepared, code: str, common: dict[str, Any]) -> Finding:
        """The finding of this version for a prepared record; `common` holds the record's own fields."""
        template, value, threshold, target, missing, text = self._own(prep, code)
        # Every field is built from validated records and compiled checks: no re-validation
        # (validation, then pydantic's construct loop, were most of the cost of a finding).
        d = template.copy()
        d.update(common)
        d["value"] = value if isinstance(value, _REPORTED) else None
        d["threshold"] = threshold if isinstance(threshold, _REPORTED) else None
        if target is not None:
            d["target"] = target if isinstance(target, Decimal) else None
        extras = self.extras(prep, code, d["value"], d["threshold"])
        notes = extras.pop("notes", None)
        d.update(extras)
        d["message"] = _with_notes(text, extras, notes)
        d["lead_departments"] = list(self.leads)
        d["missing_fields"] = missing
        return Finding.trusted(d)

    def parts(self, prep: _Prepared, code: str) -> tuple[Any, ...]:
        """The same finding as FindingParts: what finding() would hold, less what the record and the
        check version give (those are `prep.record` and `self.key`)."""
        plan = self._plans.get(code) or self._plan(code)
        if code == "a" and plan[1].text is not None and self._plain:
            # Not applicable, a fixed sentence, no extras (most findings): only the operands to read.
            value, threshold = self.value(prep), self.threshold(prep)
            return (
                prep.record,
                self._key or self.key,
                "not_applicable",
                value if isinstance(value, _REPORTED) else None,
                threshold if isinstance(threshold, _REPORTED) else None,
                None,
                prep.date,
                plan[1].text,
                [],
                False,
                {"review_reasons": []},
            )
        _, value, threshold, target, missing, text = self._own(prep, code)
        value = value if isinstance(value, _REPORTED) else None
        threshold = threshold if isinstance(threshold, _REPORTED) else None
        extras = self.extras(prep, code, value, threshold)
        text = _with_notes(text, extras, extras.pop("notes", None))
        return (
            prep.record,
            self.key,
            CODE_STATUS[code],
            value,
            threshold,
            target if isinstance(target, Decimal) else None,
            prep.date,
            text,
            missing,
            code in REVIEW_CODES,
            extras,
        )

    @property
    def key(self) -> tuple[Any, ...]:
        """The check version's fields of its findings, in VERSION_FIELDS order (one tuple, shared)."""
        key = self._key
        if key is None:
            template = self._plan("c")[0]
            key = self._key = tuple(template[k] for k in VERSION_FIELDS)
        return key


_Version = VersionFindings  # the name older callers use

_REPORTED = (Decimal, bool)  # operand values a finding reports (text and dates are not)


def _operand(e: Expr, formulas: dict[Any, str]) -> Callable[[_Prepared], Any]:
    """formulas.value_of(e, prep.values) as a function made once per check version.

    A formula the preparation already computed (a derived key) is read from ``prep.exact``.
    """
    if isinstance(e, Const):
        const = e.value
        return lambda prep: const
    if isinstance(e, FieldRef):
        name = e.name

        def field_value(prep: _Prepared) -> Any:
            v: Any = prep.values.get(
                name
            )  # as Any | None, mypy narrows `t` to type[None] and flags `t is str`
            t = type(v)
            if t is Decimal or t is bool or t is str or v is None:
                return v
            if isinstance(v, int) and not isinstance(v, bool):
                return Decimal(v)
            if isinstance(v, dt.date):
                return None
            return v

        return field_value
    try:
        key = formulas.get(e)
    except TypeError:  # an unhashable expression is never a derived key
        key = None
    if key is None:
        return lambda prep: evaluate_number(e, prep.values)
    derived = key

    def formula_value(prep: _Prepared) -> Any:
        exact = prep.exact
        return exact[derived] if derived in exact else evaluate_number(e, prep.values)

    return formula_value
