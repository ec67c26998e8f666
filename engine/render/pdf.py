"""HTML -> PDF with WeasyPrint, only when a Chinese font is installed (else every glyph is a box)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FONT_PACKAGE = "fonts-noto-cjk"
NO_FONT_MESSAGE = (f"未安装中文字体,无法生成PDF:请安装 Debian 软件包 {FONT_PACKAGE}(apt-get install {FONT_PACKAGE})。"
                   f" No Chinese (CJK) font is installed, so the PDF would show boxes instead of characters;"
                   f" install the Debian package {FONT_PACKAGE}.")


class PdfUnavailable(RuntimeError):
    """PDF output cannot be produced on this machine; the message says what to install."""


def cjk_fonts() -> list[str]:
    """Families fontconfig offers for Chinese text."""
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def ensure_pdf_possible() -> None:
    if not cjk_fonts():
        raise PdfUnavailable(NO_FONT_MESSAGE)
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango libraries missing
        raise PdfUnavailable(f"WeasyPrint 不可用 (WeasyPrint unavailable): {exc}. "
                             "Install the Python package weasyprint and the Debian packages "
                             "libpango-1.0-0 libpangoft2-1.0-0.") from exc


def html_to_pdf(html: str, base_url: str | Path | None = None) -> bytes:
    """Render an HTML document to PDF bytes (A4 page size comes from the template's @page rule)."""
    ensure_pdf_possible()
    import weasyprint

    doc = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    # Fixed metadata so the same letter gives the same file (WeasyPrint would stamp the time).
    return doc.write_pdf(pdf_identifier=b"compliance-letter", custom_metadata=False,
                         uncompressed_pdf=False) or b""
