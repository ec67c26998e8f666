"""What compiling a pack produces: outcome codes, derived-value specs, check versions (segments),
compiled checks and kinds, aggregates. Plain data, read by the evaluator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.policy.check_schema import Check, DatedValue
from engine.policy.expression_tree import Compare, Expr
from engine.policy.schema import MeasureFile

MAX_RULES_PER_CHECK = 4000
CAP = 250  # frames per action: one action reports a rule's matches for a whole batch

STATUS_CODE = {
    "compliant": "c",
    "non_compliant": "n",
    "not_applicable": "a",
    "insufficient_data": "i",
    "on_track": "o",
    "behind_schedule": "b",
}
CODE_STATUS = {v: k for k, v in STATUS_CODE.items()}
# Outcome variants beyond the status: upper case = the same status flagged for review; x = not
# applicable because an inclusion rule is not met (不计入).
CODE_STATUS.update(
    {"C": "compliant", "N": "non_compliant", "O": "on_track", "B": "behind_schedule", "x": "not_applicable"}
)
REVIEW_CODES = frozenset("CNOB")
_NEG = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}

# A literal: ("ex", key) | ("nex", key) | ("cmp", op, key, value) | ("ref", op, key, other_key)
Literal_ = tuple
Conj = frozenset  # of literals
Dnf = list  # of Conj, mutually exclusive


@dataclass(frozen=True)
class Trajectory:
    """Where a target due by `due_year` should stand in the record's report year (straight line)."""

    base: Expr
    base_year: Expr
    target: Expr
    due_year: int


@dataclass(frozen=True)
class Choice:
    """The judged figure: `primary` where it has a value, else `secondary` (a ready-made or counted figure)."""

    primary: Expr
    secondary: Expr


@dataclass(frozen=True)
class Disagreement:
    """1 when both figures have a value and differ beyond the rounding of the one written by hand
    (`written`: 'secondary' for a ready-made figure beside a computed one, 'primary' for a stated
    figure beside a counted one), else 0."""

    primary: Expr
    secondary: Expr
    written: str


@dataclass(frozen=True)
class Difference:
    """judged(left) - judged(right), exactly: a comparison of two figures becomes one of this with 0.

    The engine then compares every field with a constant only, so two records whose values stand
    in the same place relative to every constant of a check reach the same rules (the evaluator
    asks the engine once per such place, see evaluation/outcomes.py)."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class AggregateRef:
    """A figure counted or summed from lower records (a measure file's `aggregates:`), filled per record."""

    id: str  # namespaced: pack:aggregate id


@dataclass(frozen=True)
class Cumulative:
    """The sum of a yearly field over the years of a period, up to the record's report year."""

    field: str
    first_year: int
    last_year: int


@dataclass
class Segment:
    """One version of a check: a date range with one applicability and one threshold value."""

    version: int
    start: dt.date
    end: dt.date
    applies: Expr | None
    threshold_value: DatedValue
    threshold_version: int
    amendment: int  # 0 = original applicability
    threshold: Expr  # the threshold expression with `param` replaced by this segment's value
    final: Compare  # always `quantity op threshold` (compiler.py); its .op and .left are read
    due: Expr | None
    trajectory_key: str | None
    rules: dict[str, Conj] = field(default_factory=dict)
    # Before the due date, what the quantity is held to: the straight line (FieldRef of
    # trajectory_key) or, for pace: flat, the threshold itself; None: not judgeable before it.
    trajectory: Expr | None = None
    review: Expr | None = None  # when true, a met or unmet result is flagged for review
    inclusion: bool = False  # an inclusion rule: unmet is not_applicable (不计入)
    soft_duty: bool = False  # a soft yes/no check: unmet is flagged for review
    review_early: Expr | None = None  # review before the due date (the band around the trajectory)
    supersedes: tuple[str, ...] = ()  # checks of other packs this version replaces (superseded_by)

    @property
    def label(self) -> str:
        return f"v{self.version} ({self.start}–{self.end})"


@dataclass
class CompiledCheck:
    pack_id: str
    pack_title: str
    pack_number: str
    measure: MeasureFile
    check: Check
    file: str
    line: int | None
    index: int
    quantity: Expr
    segments: list[Segment]
    fields: set[str]
    # Where the judged figure comes from when it is not the quantity alone (reported, counted):
    # the derived key of the Choice, its two sides and how each is labelled in findings.
    choice: tuple[str, Expr, Expr, str, str] | None = None  # (key, primary, secondary, basis 1, basis 2)
    disagreement: str | None = None  # derived key of the Disagreement flag
    baseline: Expr | None = None  # the trajectory's start value (over prior-year references)
    baseline_year: int | None = None

    @property
    def full_id(self) -> str:
        return f"{self.pack_id}:{self.check.id}"


@dataclass
class CompiledKind:
    kind: str
    checks: list[CompiledCheck]
    derived: dict[str, Any]  # key -> Expr | Trajectory | Cumulative | Choice | Disagreement | AggregateRef
    fact_fields: list[str]
    ruleset: dict[str, Any]
    rule_index: dict[str, tuple[int, str]]  # rule name -> (check index, outcome code: CODE_STATUS)
    # The ruleset split into rulesets small enough for durable's alpha-network stack (see stack_bound).
    shards: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: str = ""


@dataclass(frozen=True)
class CompiledAggregate:
    """An aggregate of a pack: records of `over` whose check `check` (full id) is met, counted or summed."""

    id: str  # pack:aggregate id
    title: str
    over: str
    subject: str
    check: str
    sum: str | None
    unit: str | None
    by_county: bool
