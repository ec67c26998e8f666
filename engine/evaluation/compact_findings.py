"""Compact findings: what evaluate(parts=True) gives, one (prepared record, check version, outcome
code) triple per finding, kept as two containers a record; ``finding_parts`` expands them into
FindingParts (findings.py) and ``compact_status_counts`` counts them by status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from engine.evaluation.build_findings import VersionFindings
from engine.evaluation.prepare import Prepared as _Prepared
from engine.policy.compiler import CODE_STATUS


class CompactFindings:
    """Findings in their compact form, as evaluate(parts=True) gives them: per record, the prepared
    record, its check versions in force (one list shared by every record of that date) and their
    outcome codes. Iterating yields one (prepared record, version, code) triple per finding; nothing
    more is built until something asks (finding_parts, VersionFindings.finding). Two containers a
    record instead of one triple a finding: fewer objects for the cyclic collector to visit."""

    __slots__ = ("_rows", "_n")

    def __init__(self) -> None:
        self._rows: list[tuple[Any, list[tuple[int, VersionFindings]], tuple[str, ...]]] = []
        self._n = 0

    def add(
        self, prep: _Prepared, versions: list[tuple[int, VersionFindings]], codes: tuple[str, ...]
    ) -> None:
        self._rows.append((prep, versions, codes))
        self._n += len(codes)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[tuple[_Prepared, VersionFindings, str]]:
        for prep, versions, codes in self._rows:
            for (_, version), code in zip(versions, codes, strict=True):
                yield prep, version, code

    def codes(self) -> Iterator[str]:
        """The outcome code of every finding, in order."""
        for _, _, codes in self._rows:
            yield from codes


def finding_parts(compact: Iterable[tuple[_Prepared, VersionFindings, str]]) -> list[tuple[Any, ...]]:
    """FindingParts (findings.py) of findings in their compact form, (prepared record, version, code)."""
    return [version.parts(prep, code) for prep, version, code in compact]


def compact_status_counts(compact: Iterable[tuple[Any, Any, str]]) -> dict[str, int]:
    """Findings by status, from their compact form."""
    counts: dict[str, int] = {}
    tally = (
        Counter(compact.codes()) if isinstance(compact, CompactFindings) else Counter(p[2] for p in compact)
    )
    for code, n in tally.items():
        status = CODE_STATUS[code]
        counts[status] = counts.get(status, 0) + n
    return counts
