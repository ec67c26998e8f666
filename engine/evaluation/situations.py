"""Asking durable-rules once per situation, not once per record.

Every literal the compiler hands the engine compares one fact field with a constant (a comparison of
two figures is compiled into their exact difference compared with 0), or tests a field's presence.
So what decides which rules of a check version match is, for each field the version's rules test,
where its value stands among the constants those rules compare it with: missing, below the first,
equal to one, between two, above the last; for text and yes/no fields, which constant it equals.
Records in the same *situation* for a check version reach the same outcome.

For each record and check version in force, the situation is computed (a bisect per field); the
first record in a situation is answered by durable-rules, with a fact holding a representative value
of each field (the constant itself, or a value strictly between two), and every later record in it
gets that answer. Each answer is verified to be exactly one outcome for the check version, as a
record's own fact is. The plain per-record path (``engine="durable-direct"``) and the plain-Python
reference give the same findings (tests/test_engine_differential.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from engine.policy.compiler import CompiledKind, Segment

_OTHER = "\x00"  # a text value equal to no constant of the rules (rule constants are printable text)
MAX_SITUATIONS = 200_000  # answers kept per kind; a fresh table once exceeded (memory stays bounded)
MAX_RECORDS = 50_000  # whole records' outcomes kept per kind (Plan.records); emptied once exceeded

# (check index, id(segment), picker of its places, its answers) for each version in force
Steps = list[tuple[int, int, Any, dict[Any, str]]]


class Plan:
    """The versions in force on one record date, how to answer them, and whole records answered.

    ``steps`` is None if a version must be asked with each record's own fact. ``records`` maps a
    record's places (SituationTable.places) to the outcomes its versions reach, check index -> code:
    each is read off the versions' answers, which never change once given, so a later record with the
    same places gets the same outcomes (the dict is shared: nobody writes to it once kept).
    """

    __slots__ = ("in_force", "steps", "records")

    def __init__(self, in_force: dict[int, Segment], steps: Steps | None):
        self.in_force = in_force
        self.steps = steps
        self.records: dict[tuple[Any, ...], dict[int, str]] = {}


class SituationTable:
    """Per compiled kind: which fields each check version's rules read, their constants, and the answers."""

    def __init__(self, ck: CompiledKind):
        numbers: dict[str, set[float]] = {}
        texts: dict[str, set[Any]] = {}
        self.keys: dict[int, tuple[str, ...]] = {}  # id(segment) -> fields its rules test
        self.check_of: dict[int, int] = {}  # id(segment) -> check index
        self.segment: dict[int, Segment] = {}
        self.direct: set[int] = set()  # segments with a field-to-field literal: asked per record
        for cc in ck.checks:
            for seg in cc.segments:
                keys: set[str] = set()
                for conj in seg.rules.values():
                    for lit in conj:
                        tag = lit[0]
                        if tag in ("ex", "nex"):
                            keys.add(lit[1])
                        elif tag == "cmp":
                            keys.add(lit[2])
                            v = lit[3]
                            if isinstance(v, bool) or isinstance(v, str):
                                texts.setdefault(lit[2], set()).add(v)
                            else:
                                numbers.setdefault(lit[2], set()).add(float(v))
                        else:
                            self.direct.add(id(seg))
                self.keys[id(seg)] = tuple(sorted(keys))
                self.check_of[id(seg)] = cc.index
                self.segment[id(seg)] = seg
        self.numbers = {k: sorted(v) for k, v in numbers.items()}
        self.texts = {k: frozenset(v) for k, v in texts.items()}
        # id(segment) -> the engine's answers for that version: the places of its fields -> outcome
        # code (the places as one value for a version of one field, a tuple for more, () for none).
        self.answers: dict[int, dict[Any, str]] = {sid: {} for sid in self.keys}
        self._answered = 0
        # Each field's place is computed once per record (the constants are the kind's, not the
        # version's); a version's situation is then the places of its own fields, picked by position.
        self.fields = tuple(sorted({k for keys in self.keys.values() for k in keys}))
        self._plan = tuple(
            (
                k,
                self.numbers.get(k, []),
                self.texts.get(k, frozenset()),
                self.numbers[k][0] if len(self.numbers.get(k, ())) == 1 else None,
            )
            for k in self.fields
        )
        where = {k: i for i, k in enumerate(self.fields)}
        self._pick: dict[int, Any] = {}
        self._plans: dict[int, Plan] = {}
        self._remembered = 0  # records' outcomes kept, over all plans (Plan.records)
        for sid, names in self.keys.items():
            positions = [where[k] for k in names]
            self._pick[sid] = itemgetter(*positions) if positions else lambda places: ()

    def plan(self, in_force: dict[int, Segment]) -> Plan:
        """How to answer a record with these versions in force: made once per set of versions in force
        (one per record date)."""
        found = self._plans.get(id(in_force))
        if found is None or found.in_force is not in_force:
            steps: Steps | None = [
                (ci, id(seg), self._pick[id(seg)], self.answers[id(seg)]) for ci, seg in in_force.items()
            ]
            if any(id(seg) in self.direct for seg in in_force.values()):
                steps = None
            found = self._plans[id(in_force)] = Plan(in_force, steps)  # holds in_force: its id stays its own
        return found

    def keep(self, plan: Plan, places: tuple[Any, ...], got: dict[int, str]) -> None:
        """Remember a record's outcomes (every version answered) for its places under this plan."""
        if self._remembered >= MAX_RECORDS:
            for known in self._plans.values():
                known.records.clear()
            self._remembered = 0
        plan.records[places] = got
        self._remembered += 1

    def forget_records(self) -> None:
        """Drop the outcomes kept per record (the answers per situation stay): what a first pass over
        records never seen would find."""
        for known in self._plans.values():
            known.records.clear()
        self._remembered = 0

    def places(self, fact: dict[str, Any]) -> tuple[Any, ...]:
        """Where each of the kind's fields stands among its constants (in ``self.fields`` order):
        None if missing; for a number 2 * (how many constants are below it), + 1 if it equals one;
        a yes/no value itself; a text value itself if a constant, else _OTHER."""
        out: list[Any] = []
        add = out.append
        get = fact.get
        for k, cs, ts, only in self._plan:
            v = get(k)
            if v is None:
                add(None)
            elif type(v) is float or type(v) is int:
                if only is not None:  # one constant: what bisect_left gives, without the call
                    add(2 if only < v else 1 if only == v else 0)
                else:
                    i = bisect_left(cs, v)
                    add(2 * i + 1 if i < len(cs) and cs[i] == v else 2 * i)
            elif type(v) is bool:
                add(v)
            else:
                add(v if v in ts else _OTHER)
        return tuple(out)

    def situation(self, seg: Segment, fact: dict[str, Any]) -> tuple[int, Any]:
        """Where the fact's values stand for this check version's rules (hashable): (id(seg), places)."""
        return (id(seg), self._pick[id(seg)](self.places(fact)))

    def representative(self, situation: tuple[int, Any], kind: str, i: int) -> dict[str, Any]:
        """A fact in this situation: for each field a value standing where the situation says."""
        seg = self.segment[situation[0]]
        names = self.keys[id(seg)]
        places = (situation[1],) if len(names) == 1 else situation[1]
        fact: dict[str, Any] = {"_k": kind, "_i": i, "_d": float(seg.start.toordinal())}
        for k, c in zip(names, places, strict=True):
            if c is None:
                continue
            if type(c) is bool or type(c) is str:
                fact[k] = c
                continue
            cs = self.numbers.get(k, [])
            j, equal = divmod(c, 2)
            if equal:
                fact[k] = cs[j]
            elif not cs:
                fact[k] = 0.0
            elif j == 0:
                fact[k] = cs[0] - 1.0
            elif j == len(cs):
                fact[k] = cs[-1] + 1.0
            else:
                fact[k] = (cs[j - 1] + cs[j]) / 2  # strictly between two integral doubles
        return fact

    def remember(self, situation: tuple[int, Any], code: str) -> None:
        if self._answered >= MAX_SITUATIONS:
            for known in self.answers.values():  # in place: the plans hold these dicts
                known.clear()
            self._answered = 0
        self.answers[situation[0]][situation[1]] = code
        self._answered += 1


def situations_of(
    table: SituationTable, in_force: dict[int, Segment], fact: dict[str, Any]
) -> Sequence[tuple[int, tuple[int, Any] | None]]:
    """(check index, situation) for each check version in force; None where it must be asked directly."""
    places = table.places(fact)
    pick, direct = table._pick, table.direct
    return [
        (ci, None if id(seg) in direct else (id(seg), pick[id(seg)](places))) for ci, seg in in_force.items()
    ]
