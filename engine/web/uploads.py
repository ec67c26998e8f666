"""Uploaded files: saved under a fresh folder with a clean name, refused when too big or a zip bomb."""

from __future__ import annotations

import re
import unicodedata
import uuid
import zipfile
from pathlib import Path

ACCEPTED = (".csv", ".xlsx", ".xlsm", ".json", ".jsonl", ".yaml", ".yml")
_UNSAFE = re.compile(r"[^\w.\-()（）〔〕【】\u4e00-\u9fff]+")
MAX_ZIP_RATIO = 100  # an XLSX's parts compress some 5-20 times; a bomb hundreds or thousands of times
MAX_ZIP_MEMBERS = 10_000


class UploadRefused(Exception):
    """A file the workbench will not evaluate; the message says why, in Chinese."""


def clean_filename(name: str) -> str:
    """The file's own name without any folder: '../../etc/passwd' -> 'passwd'; never empty or hidden."""
    base = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip("._ ")[:120]
    return base or "upload"


def check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED:
        raise UploadRefused(f"不支持的文件类型 {suffix or '(无扩展名)'}:请上传 CSV、XLSX、JSON 或 YAML 文件")
    return suffix


def check_zip(path: Path, max_expanded: int) -> None:
    """An XLSX is a zip: refuse one that would unpack to more than `max_expanded` bytes, or too densely."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise UploadRefused("文件不是有效的 XLSX(无法作为压缩包读取)") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise UploadRefused(f"XLSX 文件包含 {len(infos)} 个部件,超过上限,已拒收")
    expanded = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if expanded > max_expanded or (expanded > 10 * 1024 * 1024 and expanded / packed > MAX_ZIP_RATIO):
        raise UploadRefused(
            f"XLSX 文件解压后达 {expanded // (1024 * 1024)} MB(压缩比 {expanded // packed}:1),"
            "疑似压缩炸弹,已拒收"
        )


def new_folder(data_dir: Path) -> Path:
    folder = data_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def estimate_rows(path: Path) -> int | None:
    """About how many rows the file holds, for the progress bar (None when it cannot tell cheaply)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".jsonl"):
            with path.open("rb") as f:
                n = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
            return max(1, n - (suffix == ".csv"))
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            try:
                return max(1, sum(max(0, (ws.max_row or 1) - 1) for ws in wb.worksheets))
            finally:
                wb.close()
    except Exception:  # an estimate only; the reader reports what is wrong with the file
        return None
    return None
