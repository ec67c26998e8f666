"""Letter numbers and the register of issued letters, behind one small interface.

A number belongs to a judgement: ``book.issue(prefix, year, judgement, key)`` hands out the number of
that judgement (``key``: ``judgement_fingerprint`` of its findings) — the one it already has, or the next
of the prefix and year — and the files written with it are recorded through the yielded issue. The
number is only kept when the block ends without error, so a letter that could not be written (disk
full) uses up no number.

``StoreBook`` keeps numbers and the register in the store (engine.store.letters.issue_letter).
``LocalBook`` numbers from a given start without keeping anything, for letters rendered straight from
input files (--from); the same judgement still keeps its number within one command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel

from engine.render.letters import letter_number

if TYPE_CHECKING:
    from engine.render.stored import Judgement


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


class Issue(Protocol):
    number: str
    reused: bool

    def record(self, format: str, sha256: str, path: str | None) -> None: ...


class LetterBook(Protocol):
    issued: list[IssuedFile]

    def issue(
        self, prefix: str, year: int, judgement: Judgement, key: str
    ) -> AbstractContextManager[Issue]: ...


class _LocalIssue:
    def __init__(self, number: str, reused: bool):
        self.number = number
        self.reused = reused
        self.files: list[tuple[str, str, str | None]] = []

    def record(self, format: str, sha256: str, path: str | None) -> None:
        self.files.append((format, sha256, path))


class LocalBook:
    """Sequential numbers from `start`; issued files are only listed in memory."""

    def __init__(self, start: int = 1):
        self._next: dict[tuple[str, int], int] = {}
        self._given: dict[tuple[str, str, str], str] = {}
        self.start = start
        self.issued: list[IssuedFile] = []

    @contextmanager
    def issue(self, prefix: str, year: int, judgement: Judgement, key: str) -> Iterator[Issue]:
        given_key = (prefix, f"{judgement.kind}:{judgement.record_id}:{judgement.period}", key)
        if given_key in self._given:
            issue = _LocalIssue(self._given[given_key], True)
            yield issue
        else:
            seq = self._next.get((prefix, year), self.start)
            issue = _LocalIssue(letter_number(prefix, year, seq), False)
            yield issue  # an exception here leaves the sequence where it was
            self._next[(prefix, year)] = seq + 1
            self._given[given_key] = issue.number
        for fmt, sha, path in issue.files:
            self.issued.append(
                IssuedFile(
                    number=issue.number,
                    record_id=judgement.record_id,
                    kind=judgement.kind,
                    period=judgement.period,
                    run_id=None,
                    format=fmt,
                    sha256=sha,
                    fingerprint=judgement.fingerprint,
                    path=path or "",
                )
            )


class StoreBook:
    """Numbers and the register kept in the store (engine.store.letters.issue_letter)."""

    def __init__(self, store: object):
        from engine.store import Store

        assert isinstance(store, Store)
        self.store = store
        self.issued: list[IssuedFile] = []

    @contextmanager
    def issue(self, prefix: str, year: int, judgement: Judgement, key: str) -> Iterator[Issue]:
        from engine.store.letters import issue_letter

        if not judgement.run_id:
            raise ValueError("a stored letter needs the run that judged the record")
        files: list[IssuedFile] = []
        with issue_letter(
            self.store,
            prefix=prefix,
            year=year,
            run_id=judgement.run_id,
            record_id=judgement.record_id,
            kind=judgement.kind,
            period=judgement.period,
            judgement=key,
            pack_fingerprint=judgement.fingerprint,
        ) as issue:
            inner_record = issue.record

            def record(format: str, sha256: str, path: str | None) -> None:
                inner_record(format, sha256, path)
                files.append(
                    IssuedFile(
                        number=issue.number,
                        record_id=judgement.record_id,
                        kind=judgement.kind,
                        period=judgement.period,
                        run_id=judgement.run_id,
                        format=format,
                        sha256=sha256,
                        fingerprint=judgement.fingerprint,
                        path=path or "",
                    )
                )

            issue.record = record  # type: ignore[method-assign]
            yield issue
        self.issued.extend(files)
