"""Output file names: made from letter numbers and record ids, and never outside the output folder."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_UNSAFE = re.compile(r"[^\w〔〕\-]+", re.UNICODE)
MAX_STEM = 120


def safe_stem(*parts: str) -> str:
    """'菏城审〔2026〕第001号', '../../x' -> '菏城审〔2026〕第001号_x'; never empty, no separators or dots."""
    cleaned = []
    for p in parts:
        s = unicodedata.normalize("NFKC", str(p))
        s = _UNSAFE.sub("_", s).strip("_-")
        if s:
            cleaned.append(s)
    stem = "_".join(cleaned)[:MAX_STEM].strip("_-") or "untitled"
    return stem


def output_path(folder: str | Path, stem: str, suffix: str) -> Path:
    """folder/stem.suffix, checked to lie directly inside folder."""
    out = Path(folder).resolve()
    target = (out / f"{safe_stem(stem)}.{suffix.lstrip('.')}").resolve()
    if target.parent != out:
        raise ValueError(f"refusing to write outside {out}: {target}")
    return target
