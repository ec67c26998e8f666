"""What `compliance rules lint` reports: the problems and warnings found, its exit status, and how a
problem is printed (file:line:column, then the suggestion)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.policy.loader import RuleError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


@dataclass
class LintReport:
    problems: list[RuleError] = field(default_factory=list)
    warnings: list[RuleError] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)
    packs: list[Path] = field(default_factory=list)
    rulesets: int = 0

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_UNUSABLE
        return EXIT_FINDINGS if self.problems else EXIT_CLEAN


def format_problem(e: RuleError) -> str:
    text = e.head
    if e.suggestion:
        text += f"\n    建议 suggestion: {e.suggestion}"
    return text


def _only(problems: list[RuleError], only: set[Path] | None) -> list[RuleError]:
    seen: set[tuple] = set()
    out = []
    for e in problems:
        k = (e.file, e.line, e.column, e.message)
        if k in seen:
            continue
        seen.add(k)
        if only is None or Path(e.file).resolve() in only:
            out.append(e)
    return sorted(out, key=lambda e: (e.file, e.line or 0, e.column or 0))
