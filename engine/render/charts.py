"""Progress charts: percent of target reached per item, coloured by status.

SVG is written here by hand (a few rectangles and text; matplotlib is not installed and would be a
heavy dependency for this) and inlined in HTML/PDF. Word cannot show inline SVG reliably, so the DOCX
gets the same chart drawn as PNG with Pillow (already required by WeasyPrint). Every label is
escaped: record names are data, not markup.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel

COLOURS = {"compliant": "#2e7d32", "on_track": "#2e7d32", "non_compliant": "#c62828",
           "behind_schedule": "#c62828", "insufficient_data": "#b7950b", "not_applicable": "#9e9e9e"}
LEGEND = [("#2e7d32", "达标/进度正常"), ("#c62828", "未达标/进度滞后"), ("#b7950b", "资料不足")]
SCALE_MAX = 120  # percent at the right edge; beyond it the bar is cut and marked
_W, _LABEL_W, _ROW_H, _TOP, _PCT_W = 700, 300, 24, 26, 70
_BAR_W = _W - _LABEL_W - _PCT_W - 10


class ChartItem(BaseModel):
    label: str
    percent: Decimal | None  # None: no value to chart (insufficient data)
    status: str


def _bar_width(p: Decimal | None) -> float:
    if p is None:
        return 0.0
    return float(max(Decimal(0), min(p, Decimal(SCALE_MAX)))) / SCALE_MAX * _BAR_W


def _pct_text(p: Decimal | None) -> str:
    if p is None:
        return "资料不足"
    return f"{p.quantize(Decimal('0.1'))}%"


def _short(label: str, n: int = 22) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def svg(items: list[ChartItem], title: str = "目标完成进度(实际值占目标值的百分比)") -> str:
    """A self-contained SVG (string) for inlining in HTML."""
    h = _TOP + len(items) * _ROW_H + 44
    x0 = _LABEL_W
    x100 = x0 + 100 / SCALE_MAX * _BAR_W
    font = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {h}" width="{_W}" height="{h}" '
           f'font-family={quoteattr(font)} font-size="12" role="img" aria-label={quoteattr(title)}>',
           f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, it in enumerate(items):
        y = _TOP + i * _ROW_H
        colour = COLOURS.get(it.status, "#9e9e9e")
        out.append(f'<text x="{x0 - 6}" y="{y + 16}" text-anchor="end">{escape(_short(it.label))}</text>')
        out.append(f'<rect x="{x0}" y="{y + 4}" width="{_BAR_W}" height="{_ROW_H - 8}" fill="#f0f0f0"/>')
        w = _bar_width(it.percent)
        if w > 0:
            out.append(f'<rect x="{x0}" y="{y + 4}" width="{w:.1f}" height="{_ROW_H - 8}" fill="{colour}"/>')
        if it.percent is not None and it.percent > SCALE_MAX:
            out.append(f'<text x="{x0 + _BAR_W - 4}" y="{y + 16}" text-anchor="end" fill="#fff">»</text>')
        out.append(f'<text x="{x0 + _BAR_W + 6}" y="{y + 16}" fill="{colour}">{escape(_pct_text(it.percent))}</text>')
    y_end = _TOP + len(items) * _ROW_H
    out.append(f'<line x1="{x100:.1f}" y1="{_TOP}" x2="{x100:.1f}" y2="{y_end}" stroke="#333" '
               'stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x100:.1f}" y="{y_end + 14}" text-anchor="middle" font-size="10">100%</text>')
    lx = x0
    for colour, text in LEGEND:
        out.append(f'<rect x="{lx}" y="{y_end + 24}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{y_end + 34}" font-size="11">{escape(text)}</text>')
        lx += 130
    out.append("</svg>")
    return "\n".join(out)


@lru_cache(maxsize=1)
def cjk_font_file() -> tuple[str, int] | None:
    """(file, face index) of a Chinese font fontconfig knows, for Pillow."""
    if shutil.which("fc-match") is None:
        return None
    res = subprocess.run(["fc-match", "-f", "%{file}\n%{index}\n%{lang}", "sans-serif:lang=zh-cn"],
                         capture_output=True, text=True, check=False)
    parts = res.stdout.split("\n")
    if len(parts) < 3 or "zh-cn" not in parts[2]:
        return None
    return parts[0], int(parts[1] or 0)


def png(items: list[ChartItem], title: str = "目标完成进度(实际值占目标值的百分比)", scale: int = 2) -> bytes:
    """The same chart as PNG bytes. Without a Chinese font, labels are replaced by row numbers
    (the table beside the chart in the document carries the same numbers)."""
    from PIL import Image, ImageDraw, ImageFont

    font_ref = cjk_font_file()

    def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        if font_ref:
            return ImageFont.truetype(font_ref[0], size * scale, index=font_ref[1])
        return ImageFont.load_default(size * scale)

    f12, f10 = font(12), font(10)
    h = _TOP + len(items) * _ROW_H + 44
    img = Image.new("RGB", (_W * scale, h * scale), "white")
    d = ImageDraw.Draw(img)

    def s(v: float) -> float:
        return v * scale

    d.text((0, s(2)), title if font_ref else "Progress (% of target)", fill="black", font=font(13))
    x0 = _LABEL_W
    for i, it in enumerate(items):
        y = _TOP + i * _ROW_H
        colour = COLOURS.get(it.status, "#9e9e9e")
        label = _short(it.label) if font_ref else f"{i + 1}"
        d.text((s(x0 - 6), s(y + 12)), label, fill="black", font=f12, anchor="rm")
        d.rectangle([s(x0), s(y + 4), s(x0 + _BAR_W), s(y + _ROW_H - 4)], fill="#f0f0f0")
        w = _bar_width(it.percent)
        if w > 0:
            d.rectangle([s(x0), s(y + 4), s(x0 + w), s(y + _ROW_H - 4)], fill=colour)
        text = _pct_text(it.percent) if (font_ref or it.percent is not None) else "n/a"
        d.text((s(x0 + _BAR_W + 6), s(y + 12)), text, fill=colour, font=f12, anchor="lm")
    y_end = _TOP + len(items) * _ROW_H
    x100 = x0 + 100 / SCALE_MAX * _BAR_W
    for yy in range(_TOP, y_end, 7):
        d.line([s(x100), s(yy), s(x100), s(min(yy + 4, y_end))], fill="#333", width=scale)
    d.text((s(x100), s(y_end + 8)), "100%", fill="black", font=f10, anchor="mm")
    lx = x0
    for colour, text in LEGEND:
        d.rectangle([s(lx), s(y_end + 24), s(lx + 12), s(y_end + 36)], fill=colour)
        if font_ref:
            d.text((s(lx + 16), s(y_end + 30)), text, fill="black", font=f10, anchor="lm")
        lx += 130
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
