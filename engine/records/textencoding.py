"""Which text encoding a record file is in: the whole file decides (CSV), or its byte-order mark (JSON, YAML)."""

from __future__ import annotations

import codecs
from pathlib import Path

from engine.records.readitems import ReadError

# The block size of the encoding scan (the whole file decides; the first block is sniffed for a BOM
# and NUL bytes). A later row undecodable in the file's encoding is reported as that row.
ENCODING_SAMPLE = 4 << 20
# A UTF-8 file with at most this share of undecodable lines is read as UTF-8 with those rows
# reported; more than that and the file is in some other encoding.
BAD_LINE_SHARE = 0.05


def _decodes(p: Path, encoding: str) -> bool:
    """Whether the whole file decodes in `encoding` (read in blocks: memory stays flat)."""
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        with p.open("rb") as fh:
            while block := fh.read(ENCODING_SAMPLE):
                dec.decode(block)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(p: Path) -> str:
    """UTF-8 (BOM or not) or UTF-16 (BOM) if the file decodes as such, else GB18030 (a superset of GBK).

    The whole file decides, not a prefix: GBK rows after megabytes of ASCII make it GB18030. A file
    that is UTF-8 but for a few undecodable lines is read as UTF-8 and those rows are reported one by
    one ('utf-8-rows', 'utf-8-sig-rows'); anything else that decodes as neither is refused.
    """
    with p.open("rb") as fh:
        raw = fh.read(ENCODING_SAMPLE)
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _decodes(p, "utf-8-sig") else _mostly_utf8(p, "utf-8-sig-rows")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if not _decodes(p, "utf-16"):
            raise ReadError(
                str(p),
                "UTF-16 文本中有无法解码的字节 the file starts as UTF-16 but holds bytes that are not "
                "UTF-16 text (damaged?); save it again as CSV UTF-8",
            )
        return "utf-16"
    if b"\x00" in raw[:16] or raw.count(b"\x00") > len(raw) // 100:
        raise ReadError(
            str(p),
            "binary data (NUL bytes) in a CSV file: this is not a text table; save it as CSV (UTF-8) or XLSX",
        )
    if _decodes(p, "utf-8"):
        return "utf-8"
    if _decodes(p, "gb18030"):
        return "gb18030"
    return _mostly_utf8(p, "utf-8-rows")


def _mostly_utf8(p: Path, mode: str) -> str:
    """`mode` if the header and all but a few lines are UTF-8 (those rows are reported), else a file error."""
    lines = bad = 0
    header_ok = True
    with p.open("rb") as fh:
        for line in fh:
            lines += 1
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
                header_ok = header_ok and lines > 1
    if header_ok and lines and bad <= max(1, int(lines * BAD_LINE_SHARE)):
        return mode
    raise ReadError(
        str(p),
        "text is neither UTF-8 nor GBK/GB18030 (nor UTF-16 with a byte-order mark); "
        "save the file as CSV UTF-8",
    )


def _text_of(p: Path) -> str:
    """A text file as str: UTF-8 (BOM or not), or UTF-16/UTF-32 with a byte-order mark."""
    raw = p.read_bytes()
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(enc)
    return raw.decode("utf-8")
