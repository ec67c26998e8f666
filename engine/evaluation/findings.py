"""Findings: one per record and check in force, with the Chinese sentence a reviewer can paste."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from engine.policy.numbers import display
from engine.policy.terms import NATURE_ZH, OP_ZH, STATUS_ZH, VERSION_FIELDS, SharedText, Status  # noqa: F401 (re-exported)
from engine.records.model import SourceRef


class Finding(BaseModel):
    record_id: str
    kind: str
    record_name: str | None = None
    source: SourceRef | None = None
    pack: str
    document: str
    measure: int
    measure_title: str
    section: str
    check: str  # namespaced id: heze-2024:m9.invest_per_mu
    check_title: str
    check_version: str  # which version judged: "v1 (2024-05-06–2025-12-31), threshold 1, applicability 0"
    nature: str
    status: Status
    value: bool | Decimal | None = None
    threshold: bool | Decimal | None = None
    target: Decimal | None = None  # final target, for trajectories
    due: dt.date | None = None
    unit: str | None = None
    op: str
    message: str
    source_text: str
    interpretation: str | None = None
    lead_departments: list[str] = Field(default_factory=list)
    missing_fields: list[str] = Field(default_factory=list)
    approx: bool = False
    aspirational: bool = False
    as_of: dt.date
    # Needs a person's judgement (soft wording within its band, a ready figure that disagrees with
    # the one computed from its parts, a stated count that differs from the records): the reasons,
    # in Chinese, each starting 需人工复核.
    review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    # How the judged value was obtained: computed (from the parts the record holds), reported (a
    # ready-made figure, judged as reported, not recomputed), counted (from lower records of the
    # batch or the store), stated (a figure the report states, beside the one counted); None for a
    # plain field of the record.
    basis: str | None = None
    reported: Decimal | None = None  # the ready-made or stated figure, where another was judged or compared
    counted: Decimal | None = None  # the figure counted from lower records, where the aggregate exists
    baseline: Decimal | None = None  # where a trajectory starts: its value, year and source
    baseline_year: int | None = None
    baseline_source: str | None = None

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Finding:
        """A finding from values the evaluator built itself, every field present and of its type.

        This is pydantic's own model_construct() without its per-field loop, which cost more than
        everything else a finding needs (evaluation builds one per record and check).
        """
        m = _new(cls)
        _set_dict(m, values)
        _set_fields_set(m, _FIELDS_SET)
        _set_extra(m, None)
        _set_private(m, None)
        return m

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    def flat(self) -> dict[str, Any]:
        """The row for --format json/csv."""
        return {
            "record_id": self.record_id,
            "kind": self.kind,
            "record_name": self.record_name,
            "file": self.source.file if self.source else None,
            "row": self.source.row if self.source else None,
            "pack": self.pack,
            "measure": self.measure,
            "measure_title": self.measure_title,
            "check": self.check,
            "check_title": self.check_title,
            "check_version": self.check_version,
            "nature": self.nature,
            "status": self.status,
            "value": _num(self.value),
            "threshold": _num(self.threshold),
            "target": _num(self.target),
            "due": self.due.isoformat() if self.due else None,
            "unit": self.unit,
            "op": self.op,
            "message": self.message,
            "interpretation": self.interpretation,
            "lead_departments": "、".join(self.lead_departments),
            "missing_fields": "、".join(self.missing_fields),
            "as_of": self.as_of.isoformat(),
            "review": self.review,
            "review_reasons": "；".join(self.review_reasons),
            "basis": self.basis,
            "reported": _num(self.reported),
            "counted": _num(self.counted),
            "baseline": _num(self.baseline),
            "baseline_year": self.baseline_year,
            "baseline_source": self.baseline_source,
        }


_FIELD_NAMES = tuple(Finding.model_fields)

# FindingParts, a finding without the models (Evaluator.evaluate(parts=True)): a plain tuple
#   (record, version key, status, value, threshold, target, as_of, message, missing_fields)
# where `record` is the Record judged, `version key` the VERSION_FIELDS values of the check version,
# and the rest the Finding fields of those names. The same finding's fields, held without copying.
# Every finding has every field set, so all share this one set: pydantic changes a fields-set in
# place only by adding a field name (on assignment), which leaves this one as it is; a copied
# model gets its own. A set of 29 names per finding was a tenth of the evaluation's time and
# ~2 KB of memory per finding.
_FIELDS_SET = set(_FIELD_NAMES)
# The slots of BaseModel, set through their descriptors: what object.__setattr__ does, without
# its lookup (a finding is built per record and check, so this is measurable).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _num(v: bool | Decimal | None) -> bool | float | int | None:
    if v is None or isinstance(v, bool):
        return v
    s = display(v)
    return int(s) if "." not in s else float(s)


class Notice(BaseModel):
    """A record that was read and valid but not judged (e.g. dated outside every pack's period)."""

    record_id: str
    kind: str
    source: SourceRef | None = None
    message: str
    # baseline: a report on a year before the plan (基期数据,不单独评判); out_of_period; undated;
    # no_rules: no loaded pack judges this kind.
    category: str = "notice"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute {name} placeholders from a fixed set; anything else is left as written.

    Deliberately not str.format or Jinja: a rule message is text, never code.
    """
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


DEFAULT_MESSAGES: dict[str, str] = {
    "compliant": "{title}:实际值{value}{unit},{op}{threshold}{unit}{approx},符合要求。",
    "non_compliant": "{title}:实际值{value}{unit},未达到{op}{threshold}{unit}{approx}的要求,相差{gap}{gap_unit}。",
    "not_applicable": "{title}:不适用({applies})。",
    "insufficient_data": "{title}:缺少{missing},无法判定。",
    "on_track": "{title}:{year}年实际值{value}{unit},按进度应达{threshold}{unit},进度正常"
    "(目标{target}{unit}{approx},{due}前完成)。",
    "behind_schedule": "{title}:{year}年实际值{value}{unit},按进度应达{threshold}{unit},进度滞后,相差{gap}{gap_unit}"
    "(目标{target}{unit}{approx},{due}前完成)。",
}


# A yes/no duty has no figure and no gap.
DUTY_MESSAGES: dict[str, str] = {
    "compliant": "{title}:填报为“是”,已落实,符合要求。",
    "non_compliant": "{title}:填报为“否”,未落实该项要求。",
}


def describe(
    status: str,
    check_title: str,
    *,
    value: bool | Decimal | None,
    threshold: bool | Decimal | None,
    target: Decimal | None,
    unit: str | None,
    op: str,
    approx: bool,
    aspirational: bool,
    due: dt.date | None,
    year: int | None,
    missing: list[str],
    applies: str,
    interpretation: str | None,
    template: str | None,
    nature: str,
) -> str:
    gap = None
    if isinstance(value, Decimal) and isinstance(threshold, Decimal):
        gap = abs(threshold - value)
    unit_text = "" if unit in (None, "") else unit
    if isinstance(threshold, bool) or nature == "duty":
        unit_text = ""
    vals = {
        "title": ("力争:" if aspirational else "") + check_title,
        "value": value_text(value),
        "threshold": value_text(threshold),
        "target": value_text(target),
        "unit": unit_text,
        "op": OP_ZH.get(op, op),
        "gap": value_text(gap),
        # the difference of two percentages is in percentage points
        "gap_unit": "个百分点" if unit_text == "%" else unit_text,
        "approx": "左右" if approx else "",
        "due": f"{due.year}年底" if due else "",
        "year": str(year) if year is not None else "",
        "missing": "、".join(missing) or "所需数据",
        "applies": applies,
        "nature": NATURE_ZH.get(nature, nature),
    }
    if nature == "duty":
        vals["value"] = {"True": "是", "False": "否"}.get(str(value), vals["value"])
    default = DUTY_MESSAGES.get(status) if nature == "duty" else None
    text = fill(template or default or DEFAULT_MESSAGES[status], vals)
    if status == "compliant" and approx and gap is not None and value != threshold:
        text += f"(与目标相差{value_text(gap)}{vals['gap_unit']})"
    if interpretation and status != "not_applicable":
        text += f"【解释】{interpretation}"
    return text


def value_text(v: Any) -> str:
    """A value as a reviewer reads it: 200, 199.99, 是/否, — for none."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return display(v)
    return str(v)


def threshold_text(
    op: str | None, threshold: Any, unit: str | None = None, number: Callable[[Any], str] = value_text
) -> str:
    """'不低于 200 万元' or, for a yes/no duty, '应为 是' — never '== True'; '' without a standard.

    `number` writes a numeric threshold (the workbench writes it as it writes values)."""
    if threshold is None or op is None:
        return ""
    if isinstance(threshold, bool):
        return ("应为" if op == "==" else "不应为") + (" 是" if threshold else " 否")
    return f"{OP_ZH.get(op, op)} {number(threshold)}" + (f" {unit}" if unit else "")


# Placeholders whose text depends on the record; every other one is fixed by the check version.
_DYNAMIC = frozenset({"value", "threshold", "target", "gap", "gap_unit", "unit", "year", "missing"})


class Message:
    """describe() for one check version and status, prepared once and filled per finding.

    The template is split into text and placeholders once; a message that reads no record value
    (most not-applicable and yes/no sentences) is written once. ``render`` returns exactly what
    describe() returns for the same arguments (tests/test_evaluation_fast_path.py compares them).
    """

    def __init__(
        self,
        status: str,
        check_title: str,
        *,
        unit: str | None,
        op: str,
        approx: bool,
        aspirational: bool,
        due: dt.date | None,
        applies: str,
        interpretation: str | None,
        template: str | None,
        nature: str,
    ):
        self.status, self.check_title, self.unit, self.op = status, check_title, unit, op
        self.approx, self.aspirational, self.due, self.applies = approx, aspirational, due, applies
        self.interpretation, self.template, self.nature = interpretation, template, nature
        default = DUTY_MESSAGES.get(status) if nature == "duty" else None
        text = template or default or DEFAULT_MESSAGES[status]
        pieces = _PLACEHOLDER.split(text)  # text, name, text, name, ..., text
        self._parts = pieces
        names = set(pieces[1::2])
        self._duty = nature == "duty"
        fixed_unit = self._duty  # a duty's unit text is always empty
        dynamic = names & _DYNAMIC
        if fixed_unit:
            dynamic -= {"unit", "gap_unit"}
        self._names = names
        self._approx_note = status == "compliant" and approx
        self._suffix = f"【解释】{interpretation}" if interpretation and status != "not_applicable" else ""
        self._fixed = {
            "title": ("力争:" if aspirational else "") + check_title,
            "op": OP_ZH.get(op, op),
            "approx": "左右" if approx else "",
            "due": f"{due.year}年底" if due else "",
            "applies": applies,
            "nature": NATURE_ZH.get(nature, nature),
        }
        self.text: str | None = None
        if not dynamic and not self._approx_note:
            self.text = SharedText(self._describe(None, None, None, None, []))  # the same for every finding
        self._last_threshold: tuple[Any, str] = (None, value_text(None))

    def _describe(self, value: Any, threshold: Any, target: Any, year: int | None, missing: list[str]) -> str:
        return describe(
            self.status,
            self.check_title,
            value=value,
            threshold=threshold,
            target=target,
            unit=self.unit,
            op=self.op,
            approx=self.approx,
            aspirational=self.aspirational,
            due=self.due,
            year=year,
            missing=missing,
            applies=self.applies,
            interpretation=self.interpretation,
            template=self.template,
            nature=self.nature,
        )

    def render(
        self,
        value: bool | Decimal | None,
        threshold: bool | Decimal | None,
        target: Decimal | None,
        year: int | None,
        missing: list[str],
    ) -> str:
        if self.text is not None:
            return self.text
        names = self._names
        vals = dict(self._fixed)
        gap = None
        if isinstance(value, Decimal) and isinstance(threshold, Decimal):
            gap = abs(threshold - value)
        unit = self.unit
        unit_text = "" if unit in (None, "") or self._duty or isinstance(threshold, bool) else unit
        vals["unit"] = unit_text
        vals["gap_unit"] = gap_unit = "个百分点" if unit_text == "%" else unit_text
        if "value" in names:
            text = value_text(value)
            vals["value"] = {"True": "是", "False": "否"}.get(str(value), text) if self._duty else text
        if "threshold" in names:
            # Thresholds are mostly one constant per check version: its text is kept (one tuple,
            # replaced whole, so the pair never mixes two thresholds).
            last = self._last_threshold
            if last[0] is not threshold:
                last = self._last_threshold = (threshold, value_text(threshold))
            vals["threshold"] = last[1]
        if "target" in names:
            vals["target"] = value_text(target)
        if "gap" in names:
            vals["gap"] = value_text(gap)
        if "year" in names:
            vals["year"] = str(year) if year is not None else ""
        if "missing" in names:
            vals["missing"] = "、".join(missing) or "所需数据"
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            name = parts[i]
            out.append(vals.get(name, "{" + name + "}"))
            out.append(parts[i + 1])
        text = "".join(out)
        if self._approx_note and gap is not None and value != threshold:
            text += f"(与目标相差{value_text(gap)}{gap_unit})"
        return text + self._suffix
