"""Which checks of one pack supersede those of another, and from when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.policy.loader import Pack, RuleError


@dataclass
class Supersession:
    """`superseded_by` across packs: which check stops being judged when, and what replaces it."""

    cutoff: dict[str, tuple[dt.date, str]] = field(default_factory=dict)  # old id -> (from, new id)
    replaces: dict[str, list[str]] = field(default_factory=dict)  # new id -> old ids


def supersessions(packs: list[Pack]) -> tuple[Supersession, list[RuleError]]:
    """Resolve every `superseded_by: pack:check` among the loaded packs.

    A check is superseded from the day the superseding check comes into force (its period in
    force, else its measure's, else its pack's). A superseding pack that is not loaded leaves the
    check in force: the old policy still holds for whoever evaluates without the new one.
    """
    starts: dict[str, dt.date] = {}
    for p in packs:
        for ms in p.measures:
            for c in ms.measure.checks:
                starts[f"{p.meta.id}:{c.id}"] = (c.in_force or ms.measure.in_force or p.meta.period).start
    loaded = {p.meta.id for p in packs}
    out, errors = Supersession(), []
    for p in packs:
        for ms in p.measures:
            for ci, c in enumerate(ms.measure.checks):
                if not c.superseded_by:
                    continue
                target = c.superseded_by
                line = ms.doc.line_of(("checks", ci, "superseded_by"))
                where = f"checks.{ci}.superseded_by"
                target_pack = target.split(":", 1)[0] if ":" in target else None
                if target_pack is None or target_pack == p.meta.id:
                    errors.append(
                        RuleError(
                            str(ms.path),
                            line,
                            where,
                            f"superseded_by {target!r} must name a check of another pack",
                            suggestion="write pack:check, e.g. lu-2024:m5.invest_per_mu",
                        )
                    )
                    continue
                if target_pack not in loaded:
                    continue
                if target not in starts:
                    errors.append(
                        RuleError(
                            str(ms.path),
                            line,
                            where,
                            f"superseded_by {target!r}: pack {target_pack} has no such check",
                        )
                    )
                    continue
                old = f"{p.meta.id}:{c.id}"
                out.cutoff[old] = (starts[target], target)
                out.replaces.setdefault(target, []).append(old)
    return out, errors
