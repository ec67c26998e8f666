"""Letter numbers and the register of issued letters, behind one small interface.

``StoreBook`` takes numbers from the store's per-prefix-and-year sequence and records each file
(number, record, run, format, rule-pack fingerprint, sha256). ``LocalBook`` numbers from a given start
without keeping anything, for letters rendered straight from input files (--from).
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from engine.render.letters import letter_number


class IssuedFile(BaseModel):
    number: str
    record_id: str
    kind: str
    period: str = ""
    run_id: int | None
    format: str
    sha256: str
    fingerprint: str
    path: str


class LetterBook(Protocol):
    def next_number(self, prefix: str, year: int) -> str: ...

    def record(self, issued: IssuedFile) -> None: ...


class LocalBook:
    """Sequential numbers from `start`; issued files are only listed in memory."""

    def __init__(self, start: int = 1):
        self._next: dict[tuple[str, int], int] = {}
        self.start = start
        self.issued: list[IssuedFile] = []

    def next_number(self, prefix: str, year: int) -> str:
        seq = self._next.get((prefix, year), self.start)
        self._next[(prefix, year)] = seq + 1
        return letter_number(prefix, year, seq)

    def record(self, issued: IssuedFile) -> None:
        self.issued.append(issued)


class StoreBook:
    """Numbers and the register kept in the store (engine.store.letters)."""

    def __init__(self, store: object):
        from engine.store import Store

        assert isinstance(store, Store)
        self.store = store
        self.issued: list[IssuedFile] = []

    def next_number(self, prefix: str, year: int) -> str:
        from engine.store import next_letter_number

        return next_letter_number(self.store, prefix, year)

    def record(self, issued: IssuedFile) -> None:
        from engine.store import record_letter

        if issued.run_id is None:
            raise ValueError("a stored letter needs the run that judged the record")
        record_letter(self.store, number=issued.number, run_id=issued.run_id, record_id=issued.record_id,
                      format=issued.format, sha256=issued.sha256, pack_fingerprint=issued.fingerprint,
                      kind=issued.kind, period=issued.period, path=issued.path)
        self.issued.append(issued)
