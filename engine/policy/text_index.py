"""The index of the text: every quantitative phrase of a pack's source document -> the checks encoding it.

The phrases are found mechanically (a number followed by a unit or counter: 200万元, 57%, 15个, 590公里,
0.5个百分点 ...) in each numbered measure of the source text, so nothing depends on someone remembering
to list a phrase. A phrase is *covered* when a check of the same measure quotes it in its ``source``
or ``title``; otherwise the pack's ``index.yaml`` must give a reason it has no check (a date, the name of
an existing programme, a figure describing the present). ``compliance rules index`` prints the table and
fails when a phrase is neither covered nor explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.policy.loader import INDEX_FILE, Pack, RuleError
from engine.records.yamlsource import YamlSourceError, load_yaml_file

_UNITS = (
    "万千瓦",
    "万平方米",
    "平方米",
    "个百分点",
    "万元",
    "亿元",
    "万人",
    "人次",
    "万户",
    "万个",
    "公里",
    "千瓦",
    "亿级",
    "家",
    "个",
    "条",
    "所",
    "名",
    "户",
    "人",
    "市",
    "县",
    "园区",
    "社区",
    "镇",
    "%",
    "元",
    "亩",
    "万吨/年",
    "吨/年",
    "万",
)
_PHRASE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(" + "|".join(re.escape(u) for u in _UNITS) + ")")
_HEADING = re.compile(r"^\s*(\d{1,2})\.(?=[\u4e00-\u9fff])")


class Exclusion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: int
    phrase: str
    reason: str


class IndexFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exclusions: list[Exclusion] = Field(default_factory=list)


@dataclass
class IndexEntry:
    measure: int
    phrase: str
    context: str
    checks: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def covered(self) -> bool:
        return bool(self.checks) or bool(self.reason)


def flatten(text: str) -> str:
    """Join PDF layout lines: drop line breaks and the spaces the extraction put around Chinese text."""
    t = re.sub(r"\s*\n\s*", "", text)
    t = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", t)
    return t


def measures_of(text: str) -> dict[int, str]:
    """Measure number -> its flattened text; 0 is the general requirement (一、总体要求).

    Headings are lines starting "N." in the running sequence 1, 2, 3 ... (a "2." inside a sentence
    is not a heading).
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if "一、总体要求" in ln), 0)
    heads: list[tuple[int, int]] = []
    expect = 1
    for i in range(start, len(lines)):
        m = _HEADING.match(lines[i])
        if m and int(m.group(1)) == expect:
            heads.append((i, expect))
            expect += 1
    first = heads[0][0] if heads else len(lines)
    out = {0: flatten("\n".join(lines[start:first]))}
    for k, (i, n) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        out[n] = flatten("\n".join(lines[i:end]))
    return out


def load_exclusions(pack: Pack) -> tuple[list[Exclusion], list[RuleError]]:
    path = pack.root / INDEX_FILE
    if not path.is_file():
        return [], []
    try:
        doc = load_yaml_file(path)
        return IndexFile.model_validate(doc.data or {}).exclusions, []
    except YamlSourceError as exc:
        return [], [RuleError(exc.file, exc.line, None, exc.message)]
    except ValidationError as exc:
        return [], [RuleError(str(path), None, None, str(exc))]


def build_index(pack: Pack) -> tuple[list[IndexEntry], list[RuleError]]:
    if not pack.meta.source_text:
        return [], [
            RuleError(str(pack.root / "pack.yaml"), None, "source_text", "the pack names no source text")
        ]
    src = (pack.root / pack.meta.source_text).resolve()
    if not src.is_file():
        return [], [
            RuleError(str(pack.root / "pack.yaml"), None, "source_text", f"source text not found: {src}")
        ]
    exclusions, errors = load_exclusions(pack)
    reasons = {(e.measure, e.phrase): e.reason for e in exclusions}
    used: set[tuple[int, str]] = set()
    entries: list[IndexEntry] = []
    by_measure = {m.measure.measure: m.measure for m in pack.measures}
    for n, text in measures_of(Path(src).read_text(encoding="utf-8")).items():
        measure = by_measure.get(n)
        quoted = [(c.id, flatten(c.source) + flatten(c.title)) for c in (measure.checks if measure else [])]
        for m in _PHRASE.finditer(text):
            phrase = m.group(0)
            ctx = text[max(0, m.start() - 14) : m.end() + 8]
            entry = IndexEntry(n, phrase, ctx, [cid for cid, q in quoted if phrase in q])
            if not entry.checks:
                entry.reason = reasons.get((n, phrase))
                if entry.reason:
                    used.add((n, phrase))
            entries.append(entry)
    for e in exclusions:
        if (e.measure, e.phrase) not in used and not any(
            x.measure == e.measure and x.phrase == e.phrase for x in entries
        ):
            errors.append(
                RuleError(
                    str(pack.root / INDEX_FILE),
                    None,
                    None,
                    f"measure {e.measure}: phrase {e.phrase!r} does not occur in the text",
                )
            )
    return entries, errors


def markdown(entries: list[IndexEntry], title: str) -> str:
    lines = [
        f"# 原文数量表述索引 · {title}",
        "",
        "Generated by `compliance rules index --markdown`; do not edit by hand.",
        "",
        "| 条 | 表述 | 上下文 | 检查项 | 未设检查项的理由 |",
        "|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e.measure or '总体要求'} | {e.phrase} | …{e.context}… | "
            f"{'<br>'.join(e.checks) or '—'} | {e.reason or ('' if e.checks else '**缺少**')} |"
        )
    return "\n".join(lines) + "\n"
