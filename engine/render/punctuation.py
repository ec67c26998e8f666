"""Full-width Chinese punctuation for display (GB/T 15834): ``,;:()!?`` and quotes in Chinese text.

Only what a document shows is converted; stored text (source sentences, record values) is unchanged.
A mark is converted when it stands next to Chinese text: ``推进"千企技改",每年`` reads
``推进“千企技改”，每年``; ``alert(1)``, ``1,000``, ``12:30`` and ``http://`` stay as written.
"""

from __future__ import annotations

import re

# CJK ideographs, CJK punctuation and full-width forms, and the marks that end or open Chinese text.
_CJK_CLASS = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’…—"
)
_CJK = re.compile(f"[{_CJK_CLASS}]")
_PAREN = re.compile(r"\(([^()]*)\)")
_DQUOTE = re.compile(r'"([^"\n]*)"')
_SQUOTE = re.compile(r"(?<![A-Za-z0-9])'([^'\n]*)'(?![A-Za-z0-9])")
_MARK = re.compile(r"[,;:!?]")
FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}


def _is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK.match(ch))


def fullwidth(text: str) -> str:
    """Chinese text with full-width punctuation; text without Chinese characters is returned as is."""
    if not text or not _CJK.search(text):
        return text

    def near_cjk(s: str, start: int, end: int, inner: str) -> bool:
        before = s[start - 1] if start > 0 else ""
        after = s[end] if end < len(s) else ""
        return bool(_CJK.search(inner)) or _is_cjk(before) or _is_cjk(after)

    def sub_pairs(pattern: re.Pattern[str], left: str, right: str, s: str) -> str:
        out, pos = [], 0
        for m in pattern.finditer(s):
            out.append(s[pos : m.start()])
            if near_cjk(s, m.start(), m.end(), m.group(1)):
                out.append(f"{left}{m.group(1)}{right}")
            else:
                out.append(m.group(0))
            pos = m.end()
        out.append(s[pos:])
        return "".join(out)

    s = sub_pairs(_DQUOTE, "“", "”", text)
    s = sub_pairs(_SQUOTE, "‘", "’", s)
    for _ in range(3):  # nested parentheses, innermost first
        t = sub_pairs(_PAREN, "（", "）", s)
        if t == s:
            break
        s = t

    chars = list(s)
    for i, ch in enumerate(chars):
        if ch in FULL:
            before = chars[i - 1] if i > 0 else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if _is_cjk(before) or (_is_cjk(after) and not (before.isdigit() and after.isdigit())):
                chars[i] = FULL[ch]
    s = "".join(chars)
    # no ASCII space right after a full-width mark ("， 每年" -> "，每年")
    return re.sub(r"([，；：！？）“”])[ ]+(?=[" + _CJK_CLASS + "])", r"\1", s)
