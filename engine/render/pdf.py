"""HTML -> PDF with WeasyPrint, only when a Chinese font is installed (else every glyph is a box).

Only the PDF needs a font on this machine: HTML, Markdown and DOCX name their fonts and leave the
drawing to the browser or word processor (a notice's chart in DOCX falls back to row numbers).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FONT_PACKAGE = "fonts-noto-cjk"  # Noto Serif/Sans CJK SC: 宋体/黑体 stand-ins
KAI_PACKAGE = (
    "fonts-arphic-ukai"  # AR PL UKai CN: 仿宋/楷体 stand-ins (reports/templates/fontconfig-cjk.conf)
)
NO_FONT_MESSAGE = (
    f"未安装中文字体,无法生成PDF:请安装 Debian/Ubuntu 软件包 {FONT_PACKAGE}"
    f"(sudo apt-get install {FONT_PACKAGE};公文的仿宋、楷体另装 {KAI_PACKAGE})。"
    f"HTML、DOCX、Markdown 格式不需要中文字体,可先用 -f html / -f docx / -f md。"
    f" No Chinese (CJK) font is installed, so the PDF would show boxes instead of characters;"
    f" install the Debian/Ubuntu package {FONT_PACKAGE} (and {KAI_PACKAGE} for FangSong/Kai)."
)


class PdfUnavailable(RuntimeError):
    """PDF output cannot be produced on this machine; the message says what to install."""


def cjk_fonts() -> list[str]:
    """Families fontconfig offers for Chinese text."""
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def ensure_pdf_possible() -> None:
    if not cjk_fonts():
        raise PdfUnavailable(NO_FONT_MESSAGE)
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango libraries missing
        raise PdfUnavailable(
            f"WeasyPrint 不可用 (WeasyPrint unavailable): {exc}. "
            "Install the Python package weasyprint and the Debian packages "
            "libpango-1.0-0 libpangoft2-1.0-0."
        ) from exc


def html_to_pdf(html: str, base_url: str | Path | None = None) -> bytes:
    """Render an HTML document to PDF bytes (A4 page size comes from the template's @page rule)."""
    ensure_pdf_possible()
    import weasyprint

    doc = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    # Fixed metadata so the same letter gives the same file (WeasyPrint would stamp the time).
    return (
        doc.write_pdf(pdf_identifier=b"compliance-letter", custom_metadata=False, uncompressed_pdf=False)
        or b""
    )
