"""Per-record notices of `compliance evaluate`: counted and summarised, listed with --verbose.

A batch of thousands of baseline reports would otherwise print thousands of lines through the
progress bar. The summary names each kind of notice once, with its count and the first records.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.evaluation.findings import Notice

CATEGORY_ZH = {
    "baseline": "基期数据,不单独评判(供测算进度和与往年比较)",
    "out_of_period": "日期不在任何政策的有效期内,未评价",
    "undated": "缺少日期,未评价",
    "no_rules": "没有适用于该类记录的政策条款,未评价",
    "notice": "未评价",
}
_EXAMPLES = 3


class NoticeLog:
    def __init__(self, *, verbose: bool = False, quiet: bool = False):
        self.verbose, self.quiet = verbose, quiet
        self.by_category: dict[str, list[Notice]] = {}
        self.counts: dict[str, int] = {}
        self.warnings: list[str] = []

    def notice(self, n: Notice, say: Callable[[str], None]) -> None:
        self.counts[n.category] = self.counts.get(n.category, 0) + 1
        kept = self.by_category.setdefault(n.category, [])
        if len(kept) < _EXAMPLES:
            kept.append(n)
        if self.verbose:
            where = f"{n.source}: " if n.source else ""
            say(f"提示 notice: {where}记录 {n.record_id}:{n.message}")

    def warning(self, text: str, say: Callable[[str], None]) -> None:
        if self.verbose:
            say(f"提示 warning: {text}")
        else:
            self.warnings.append(text)

    def summarise(self, say: Callable[[str], None] | None = None) -> None:
        """At the end: one line per kind of notice (nothing with --quiet or when each was listed)."""
        import click

        say = say or (lambda line: click.echo(line, err=True))
        if self.quiet or self.verbose:
            return
        for text in self.warnings:
            say(f"提示 warning: {text}")
        for category, n in self.counts.items():
            first = "、".join(x.record_id for x in self.by_category[category])
            more = " 等" if n > _EXAMPLES else ""
            say(
                f"提示 notice: {n} 条记录{CATEGORY_ZH.get(category, category)}:{first}{more}(--verbose 逐条列出)"
            )
