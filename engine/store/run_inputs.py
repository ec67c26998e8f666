"""What a run records about its inputs and who ran it."""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel


class InputFile(BaseModel):
    path: str  # as given on the command line
    abs_path: str
    sha256: str
    size: int


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def describe_inputs(paths: Sequence[str]) -> list[InputFile]:
    out = []
    for p in paths:
        path = Path(p)
        h = hashlib.sha256()
        try:
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            size = path.stat().st_size
        except OSError:
            # An unreadable file is reported by intake as a file problem; the run still records it.
            out.append(InputFile(path=p, abs_path=str(path.resolve()), sha256="", size=-1))
            continue
        out.append(InputFile(path=p, abs_path=str(path.resolve()), sha256=h.hexdigest(), size=size))
    return out
