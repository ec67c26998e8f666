"""Output file names: made from letter numbers and record ids, and never outside the output folder."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import unicodedata
from pathlib import Path

_UNSAFE = re.compile(r"[^\w〔〕\-]+", re.UNICODE)
MAX_STEM = 120


def safe_stem(*parts: str) -> str:
    """'菏城审〔2026〕2号', '../../x' -> '菏城审〔2026〕2号_x'; never empty, no separators or dots."""
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


class OutputError(OSError):
    """A file could not be written (disk full, no permission); nothing partial was left behind."""


def describe_os_error(exc: OSError, path: Path | str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"磁盘空间不足，无法写入 {path}（no space left on device）；未留下不完整的文件"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有写入权限，无法写入 {path}（{exc.strerror}）；未留下不完整的文件"
    return f"无法写入 {path}（{exc.strerror or exc}）；未留下不完整的文件"


def write_all(files: list[tuple[Path, bytes]]) -> None:
    """Write every file or none: each goes to a temporary file in its own folder first, then all are
    renamed into place (a rename needs no space, so a full disk fails before any file is replaced)."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".part")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as exc:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        where = temps[-1][1] if temps else (files[0][0] if files else "?")
        raise OutputError(exc.errno, describe_os_error(exc, where)) from exc
    for tmp, path in temps:
        os.replace(tmp, path)
