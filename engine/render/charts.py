"""Progress charts: percent of target reached per item, one bar each, legible printed in grey.

SVG is written here by hand (a few rectangles and text; matplotlib is not installed and would be a
heavy dependency for this) and inlined in HTML/PDF. Word cannot show inline SVG reliably, so the DOCX
gets the same chart drawn as PNG with Pillow (already required by WeasyPrint).

Printed in grey the status must still read: bars that fall short are hatched, met ones solid, and
every bar carries its status in words (未达标 88.0%) beside the percentage. Labels are wrapped onto
two lines, never cut mid-word without a mark, and a long chart is split into parts (``paginate``) that
each fit on one page. Every label is escaped: record names are data, not markup.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel

from engine.render.punctuation import fullwidth

COLOURS = {
    "compliant": "#2e7d32",
    "on_track": "#2e7d32",
    "non_compliant": "#c62828",
    "behind_schedule": "#c62828",
    "insufficient_data": "#b7950b",
    "not_applicable": "#9e9e9e",
}
WORDS = {
    "compliant": "达标",
    "on_track": "进度正常",
    "non_compliant": "未达标",
    "behind_schedule": "进度滞后",
    "insufficient_data": "资料不足",
    "not_applicable": "不适用",
}
HATCHED = {"non_compliant", "behind_schedule"}
LEGEND = [("compliant", "达标/进度正常(实心)"), ("non_compliant", "未达标/进度滞后(斜线)")]
SCALE_MAX = 120  # percent at the right edge; beyond it the bar is cut and marked
ROWS_PER_PART = 24  # rows of one chart part: with the heading it fits one A4 page
TITLE = "目标完成进度(实际值占目标值的百分比)"
# geometry in SVG units: the chart is 560 wide and fills the 156 mm type area (1 unit = 0.79 pt)
_W, _LABEL_W, _ROW_H, _TOP, _PCT_W, _FONT = 560, 236, 27, 24, 104, 11.5
_BAR_W = _W - _LABEL_W - _PCT_W - 12
_LABEL_CHARS = 20  # CJK characters per label line (11.5 units each within 236)


class ChartItem(BaseModel):
    label: str
    percent: Decimal | None  # None: no value to chart (insufficient data)
    status: str


def paginate(
    items: list[ChartItem], per_part: int = ROWS_PER_PART, min_last: int = 6
) -> list[list[ChartItem]]:
    """Split a long chart into full parts of `per_part` rows (each fits one page) and a shorter last part,
    which leaves room for what follows on its page; the last part never has fewer than `min_last` rows."""
    parts = [items[i : i + per_part] for i in range(0, len(items), per_part)]
    if len(parts) > 1 and len(parts[-1]) < min_last:
        move = min_last - len(parts[-1])
        parts[-1] = parts[-2][-move:] + parts[-1]
        parts[-2] = parts[-2][:-move]
    return parts


def _width(ch: str) -> float:
    return 0.55 if ord(ch) < 0x2E80 else 1.0


def wrap(label: str, chars: float = _LABEL_CHARS, lines: int = 2) -> list[str]:
    """Break a label into at most `lines` lines of `chars` CJK widths; an overlong rest ends in …."""
    label = fullwidth(label)
    out: list[str] = []
    cur, w = "", 0.0
    for ch in label:
        cw = _width(ch)
        if w + cw > chars:
            out.append(cur)
            cur, w = "", 0.0
            if len(out) == lines:
                break
        cur += ch
        w += cw
    else:
        out.append(cur)
        return [x for x in out if x]
    last = out[-1]
    out[-1] = last[:-1] + "…"
    return out


def _bar_width(p: Decimal | None) -> float:
    if p is None:
        return 0.0
    return float(max(Decimal(0), min(p, Decimal(SCALE_MAX)))) / SCALE_MAX * _BAR_W


def _pct_text(p: Decimal | None) -> str:
    if p is None:
        return "资料不足"
    return f"{p.quantize(Decimal('0.1'))}%"


def _height(n: int) -> int:
    return _TOP + n * _ROW_H + 46


def svg(items: list[ChartItem], title: str = TITLE) -> str:
    """A self-contained SVG (string) for inlining in HTML."""
    h = _height(len(items))
    x0 = _LABEL_W
    x100 = x0 + 100 / SCALE_MAX * _BAR_W
    font = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif"
    title = fullwidth(title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {h}" width="{_W}" height="{h}" '
        f'font-family={quoteattr(font)} font-size="{_FONT}" role="img" aria-label={quoteattr(title)}>',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c62828" stroke-width="3"/></pattern></defs>',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i, it in enumerate(items):
        y = _TOP + i * _ROW_H
        colour = COLOURS.get(it.status, "#9e9e9e")
        lines = wrap(it.label)
        first = y + _ROW_H / 2 + 4 - (len(lines) - 1) * 6.5
        for k, line in enumerate(lines):
            out.append(f'<text x="0" y="{first + k * 13:.1f}">{escape(line)}</text>')
        by, bh = y + 5, _ROW_H - 10
        out.append(f'<rect x="{x0}" y="{by}" width="{_BAR_W}" height="{bh}" fill="#f2f2f2"/>')
        w = _bar_width(it.percent)
        if w > 0:
            fill = "url(#hatch)" if it.status in HATCHED else colour
            out.append(
                f'<rect x="{x0}" y="{by}" width="{w:.1f}" height="{bh}" fill="{fill}" stroke="{colour}" '
                'stroke-width="1"/>'
            )
        if it.percent is not None and it.percent > SCALE_MAX:
            out.append(
                f'<text x="{x0 + _BAR_W - 4}" y="{by + bh - 5}" text-anchor="end" fill="#fff">»</text>'
            )
        status_text = f"{WORDS.get(it.status, '')} {_pct_text(it.percent)}"
        out.append(
            f'<text x="{x0 + _BAR_W + 6}" y="{y + _ROW_H / 2 + 4:.1f}" fill="#000">'
            f"{escape(status_text)}</text>"
        )
    y_end = _TOP + len(items) * _ROW_H
    out.append(
        f'<line x1="{x100:.1f}" y1="{_TOP}" x2="{x100:.1f}" y2="{y_end}" stroke="#000" '
        'stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{x100:.1f}" y="{y_end + 14}" text-anchor="middle" font-size="10">100%</text>')
    lx = x0
    for status, text in LEGEND:
        fill = "url(#hatch)" if status in HATCHED else COLOURS[status]
        out.append(
            f'<rect x="{lx}" y="{y_end + 24}" width="14" height="12" fill="{fill}" '
            f'stroke="{COLOURS[status]}"/>'
        )
        out.append(f'<text x="{lx + 18}" y="{y_end + 34}" font-size="11">{escape(fullwidth(text))}</text>')
        lx += 150
    out.append("</svg>")
    return "\n".join(out)


@lru_cache(maxsize=1)
def cjk_font_file() -> tuple[str, int] | None:
    """(file, face index) of a Chinese font fontconfig knows, for Pillow."""
    if shutil.which("fc-match") is None:
        return None
    res = subprocess.run(
        ["fc-match", "-f", "%{file}\n%{index}\n%{lang}", "sans-serif:lang=zh-cn"],
        capture_output=True,
        text=True,
        check=False,
    )
    parts = res.stdout.split("\n")
    if len(parts) < 3 or "zh-cn" not in parts[2]:
        return None
    return parts[0], int(parts[1] or 0)


def png(items: list[ChartItem], title: str = TITLE, scale: int = 3) -> bytes:
    """The same chart as PNG bytes. Without a Chinese font, labels are replaced by row numbers
    (the table beside the chart in the document carries the same numbers)."""
    from PIL import Image, ImageDraw, ImageFont

    font_ref = cjk_font_file()

    def font(size: float) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        if font_ref:
            return ImageFont.truetype(font_ref[0], int(size * scale), index=font_ref[1])
        return ImageFont.load_default(int(size * scale))

    f12, f10 = font(_FONT), font(10)
    h = _height(len(items))
    img = Image.new("RGB", (_W * scale, h * scale), "white")
    d = ImageDraw.Draw(img)

    def s(v: float) -> float:
        return v * scale

    def hatch(x1: float, y1: float, x2: float, y2: float, colour: str) -> None:
        d.rectangle([s(x1), s(y1), s(x2), s(y2)], fill="white", outline=colour, width=scale)
        step = 6
        k = x1 - (y2 - y1)
        while k < x2:
            # a 45° line from (k, y2) to (k + height, y1), clipped to the bar
            ax, ay, bx, by = k, y2, k + (y2 - y1), y1
            if ax < x1:
                ay -= x1 - ax
                ax = x1
            if bx > x2:
                by += bx - x2
                bx = x2
            if bx > ax:
                d.line([s(ax), s(ay), s(bx), s(by)], fill=colour, width=2 * scale)
            k += step

    d.text((0, s(2)), fullwidth(title) if font_ref else "Progress (% of target)", fill="black", font=font(13))
    x0 = _LABEL_W
    for i, it in enumerate(items):
        y = _TOP + i * _ROW_H
        colour = COLOURS.get(it.status, "#9e9e9e")
        lines = wrap(it.label) if font_ref else [f"{i + 1}"]
        first = y + _ROW_H / 2 - (len(lines) - 1) * 6.5
        for k, line in enumerate(lines):
            d.text((0, s(first + k * 13)), line, fill="black", font=f12, anchor="lm")
        by, bh = y + 5, _ROW_H - 10
        d.rectangle([s(x0), s(by), s(x0 + _BAR_W), s(by + bh)], fill="#f2f2f2")
        w = _bar_width(it.percent)
        if w > 0:
            if it.status in HATCHED:
                hatch(x0, by, x0 + w, by + bh, colour)
            else:
                d.rectangle([s(x0), s(by), s(x0 + w), s(by + bh)], fill=colour)
        words = WORDS.get(it.status, "") + " " if font_ref else ""
        text = words + (_pct_text(it.percent) if (font_ref or it.percent is not None) else "n/a")
        d.text((s(x0 + _BAR_W + 6), s(y + _ROW_H / 2)), text, fill="black", font=f12, anchor="lm")
    y_end = _TOP + len(items) * _ROW_H
    x100 = x0 + 100 / SCALE_MAX * _BAR_W
    for yy in range(_TOP, y_end, 7):
        d.line([s(x100), s(yy), s(x100), s(min(yy + 4, y_end))], fill="#000", width=scale)
    d.text((s(x100), s(y_end + 8)), "100%", fill="black", font=f10, anchor="mm")
    lx = x0
    for status, text in LEGEND:
        if status in HATCHED:
            hatch(lx, y_end + 24, lx + 14, y_end + 36, COLOURS[status])
        else:
            d.rectangle([s(lx), s(y_end + 24), s(lx + 14), s(y_end + 36)], fill=COLOURS[status])
        if font_ref:
            d.text((s(lx + 18), s(y_end + 30)), fullwidth(text), fill="black", font=f10, anchor="lm")
        lx += 150
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
