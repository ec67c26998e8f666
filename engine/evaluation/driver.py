"""Driving durable-rules' C core: facts in, (fact, rule) matches out.

We do not use ``durable.lang`` or ``durable.engine.Host``: every stock Host starts timer threads
that race the caller and have been measured to lose or corrupt results (see
``../shared/notes/durable-rules.md``). Instead this module calls the C extension directly and
synchronously:

* a ruleset per (pack, kind) is created once per process under a unique name;
* records are asserted as *facts* (every matching rule fires; events would be consumed by one),
  each with a unique ``id`` so identical content is never dropped as a duplicate, in batches of at
  most ``BATCH`` facts under one short-lived session id (sid);
* all pending actions of that sid are drained with ``start_action_for_state`` /
  ``complete_and_start_action`` (each rule has ``cap`` = ``BATCH``, so one action reports all of a
  rule's matches in the batch), then the sid is deleted, so at most one sid is ever live;
* Python runs no action code inside the engine, so no exception can be swallowed there;
* numbers are written in plain positional notation: durable's JSON parser misreads exponent
  notation (``5e+20``, ``1e-7``, which Python's ``json`` emits for floats from 1e16 on) and returns
  a corrupt state handle that later crashes the process. ``dumps`` below never writes an exponent.

The caller verifies that every fact got exactly one outcome per check in force; a fact that did not
(durable's 32-bit hashes can reject a distinct fact as a duplicate, #376) is retried alone.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import durable_rules_engine as _core

from engine.policy.compiler import CAP

BATCH = CAP
_names = itertools.count()
_lock = threading.Lock()


def _number(v: float | int) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise EngineError(f"not a finite number: {v!r}")
    text = repr(v)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")  # exact positional form of the shortest repr
        if "." not in text:
            text += ".0"
    return text


def dumps(obj: Any) -> str:
    """JSON for durable-rules: like json.dumps, but numbers never in exponent notation."""
    if isinstance(obj, dict):
        return (
            "{"
            + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + dumps(v) for k, v in obj.items())
            + "}"
        )
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, str) or obj is None:
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, (bool, int, float)):
        return _number(obj)
    raise EngineError(f"cannot send {type(obj).__name__} to durable-rules")


class EngineError(RuntimeError):
    """durable-rules did something the design rules out; never silently ignored."""


class RulesetHandle:
    """One compiled ruleset registered in the C core."""

    def __init__(self, label: str, definition: dict[str, Any]):
        with _lock:
            self.name = f"{label}_{next(_names)}"
        self.definition = definition
        try:
            self.handle = _core.create_ruleset(self.name, dumps(definition))
        except Exception as exc:  # the C core rejects a malformed definition
            raise EngineError(f"durable-rules rejected ruleset {label}: {exc}") from exc
        self._sids = itertools.count()

    def run(self, facts: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
        """Assert `facts` (each with a unique integer '_i') and return (fact _i, rule name) matches.

        Facts are sent in batches of at most BATCH, each batch under a fresh sid.
        """
        out: list[tuple[int, str]] = []
        for start in range(0, len(facts), BATCH):
            self._run_batch(facts[start : start + BATCH], out)
        return out

    def _run_batch(self, facts: Sequence[dict[str, Any]], out: list[tuple[int, str]]) -> None:
        if not facts:
            return
        sid = f"s{next(self._sids)}"
        payload = []
        for f in facts:
            g = dict(f)
            g["sid"] = sid
            g["id"] = f"f{f['_i']}"
            payload.append(g)
        # json.dumps is C-fast; it writes a float in exponent notation ('1e+16', '1e-05': always
        # with a sign) only outside [1e-4, 1e16), which durable misparses. Such a batch (rare:
        # |value| >= 1e10 units), or one where text merely contains 'e+'/'e-', goes through dumps().
        try:
            text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except ValueError:
            text = ""  # not finite: dumps() names the value
        if not text or "e+" in text or "e-" in text:
            text = dumps(payload)
        try:
            code, state = _core.assert_facts(self.handle, text)
        except Exception as exc:
            raise EngineError(f"durable-rules failed to assert a batch: {exc}") from exc
        # Code 1 (not handled) refers to the last fact only; every fact matches the 'seen' rule, so
        # it cannot occur here, and the per-fact verification downstream would catch a lost fact.
        size = len(out)
        try:
            result = _core.start_action_for_state(self.handle, state)
            message = result[1] if result else None
            while message:
                _matches(message, out)
                message = _core.complete_and_start_action(self.handle, state)
        finally:
            if code == 0 or len(out) > size:
                _core.delete_state(self.handle, sid)


def _matches(message: str, out: list[tuple[int, str]]) -> None:
    """Append (fact _i, rule) for one action: ``{"rule":[{"m":{fact}},{"m":{fact}},...]}``.

    durable echoes each fact's JSON as it was sent, so the common case is read without parsing
    the facts: when the only ``]`` is the one closing the list of frames (facts hold no lists),
    the action is of one rule, whose name opens the message; and each fact has exactly one
    ``"_i":`` key (a quote inside a string is escaped, so no string can hold that key). Anything
    else (several rules, a ``]`` inside some text) is parsed as JSON. A fact read wrongly here
    would miss or duplicate an outcome, which the caller's check catches.
    """
    if message.startswith('{"') and message.find("]") == len(message) - 2:
        rule = message[2 : message.index('":[')]
        try:
            ids = [int(p[: p.index(",")]) for p in message.split('"_i":')[1:]]
        except ValueError:
            pass
        else:
            out.extend([(i, rule) for i in ids])
            return
    for rule, frames in json.loads(message).items():
        out.extend([(int(frame["m"]["_i"]), rule) for frame in frames])


class ShardedRuleset:
    """A kind's checks split over several rulesets (see compiler.stack_bound); runs each, merges matches."""

    def __init__(self, label: str, shards: Sequence[dict[str, Any]]):
        self.shards = [RulesetHandle(f"{label}_s{i}", shard) for i, shard in enumerate(shards)]

    def run(self, facts: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for shard in self.shards:
            out.extend(shard.run(facts))
        return out
