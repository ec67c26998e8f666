"""`compliance rules lint`: every problem of a rule pack, with file:line:column and a suggestion.

Beyond what loading and compiling already reject (YAML syntax, unknown or missing fields,
expressions that do not parse, unknown record fields, units, duplicate ids, periods outside the
pack), lint looks at what the rules *mean*:

* placeholders (``待填写``) left by the scaffold;
* applicability conditions that can never be true (``x > 5 and x < 3``, an enum compared with a
  value not among its choices);
* checks of one measure on the same subject and quantity whose applicability overlaps on a date
  when both are in force, with the same rule twice or thresholds that cannot both be right;
* periods in force that are empty (superseded before they start), outside the measure's, and
  threshold values or amendments that never take effect.

Finally every compiled ruleset is registered in durable-rules' C core, so what lints evaluates.
Exit status: 0 clean, 1 problems found, 2 nothing could be linted (no such pack, broken vocabulary).

This module finds the packs and runs the checks: ``filechecks`` (the files as written),
``meaningchecks`` (what the rules mean, with ``conditions``); ``lintreport`` holds the report.
"""

from __future__ import annotations

from pathlib import Path

from engine.authoring.filechecks import (
    _enrich_compile_error,
    _enrich_loader_error,
    _key_column,
    _placeholders,
    _syntax_problem,
)
from engine.authoring.lintreport import LintReport, _only
from engine.authoring.meaningchecks import _meaning, _periods, superseded_empty
from engine.policy.compiler import compile_pack, supersessions
from engine.policy.loader import (
    BASE_CATALOG,
    BUILTIN_PACK,
    FIELDS_FILE,
    PACK_FILE,
    Pack,
    RuleError,
    load_pack,
    rule_files,
)
from engine.records.catalog import catalog_files, load_catalog
from engine.records.yamlsource import YamlSourceError

# --- finding the packs ----------------------------------------------------------------------------


def resolve_targets(paths: list[Path], report: LintReport) -> tuple[list[Path], set[Path] | None]:
    """Pack roots to lint, and the files to report on (None: every file of those packs)."""
    roots: list[Path] = []
    only: set[Path] | None = set()
    for p in paths:
        p = p.resolve()
        if not p.exists():
            report.unusable.append(f"{p}: no such file or folder")
        elif p.is_file():
            if not (p.parent / PACK_FILE).is_file():
                report.unusable.append(f"{p}: not inside a policy pack (no {PACK_FILE} beside it)")
                continue
            roots.append(p.parent)
            if only is not None and p.name != PACK_FILE:
                only.add(p)
            else:
                only = None
        elif (p / PACK_FILE).is_file():
            roots.append(p)
            only = None
        else:
            sub = sorted(d for d in p.iterdir() if (d / PACK_FILE).is_file())
            if not sub:
                report.unusable.append(
                    f"{p}: no {PACK_FILE} here or in its sub-folders "
                    "(create one with `compliance rules new-pack`)"
                )
            roots.extend(sub)
            only = None
    unique: list[Path] = []
    for r in roots:
        if r not in unique:
            unique.append(r)
    return unique, (only or None)


# --- the whole lint -------------------------------------------------------------------------------


def lint(paths: list[Path], context_packs: list[Path] | None = None) -> LintReport:
    """Lint the packs at `paths` (default: the built-in pack and `context_packs`).

    `context_packs` are loaded beside the linted ones (for superseded_by and pack-id clashes) but
    their own problems are not reported.
    """
    report = LintReport()
    if paths:
        roots, only = resolve_targets(paths, report)
    else:
        roots, only = [BUILTIN_PACK, *(context_packs or [])], None
    if report.unusable:
        return report
    report.packs = roots
    context = [p.resolve() for p in [BUILTIN_PACK, *(context_packs or [])] if p.resolve() not in roots]
    problems: list[RuleError] = []
    linted: list[Pack] = []
    bad_syntax: set[str] = set()
    placeholder_at: set[tuple[str, str]] = set()
    for root in roots:
        files = [root / PACK_FILE, *rule_files(root)] + (
            [root / FIELDS_FILE] if (root / FIELDS_FILE).is_file() else []
        )
        for f in files:
            syn = _syntax_problem(f)
            if syn is not None:
                problems.append(syn)
                bad_syntax.add(str(f))
                continue
            for ph in _placeholders(f):
                problems.append(ph)
                placeholder_at.add((ph.file, ph.field or ""))
        pack, errs = load_pack(root)
        for e in errs:
            if e.file in bad_syntax or (e.file, e.field or "") in placeholder_at:
                continue
            problems.append(_enrich_loader_error(e))
        if pack is not None:
            linted.append(pack)
        elif not any(Path(p.file).parent == root for p in problems):
            problems.extend(errs)
    others: list[Pack] = []
    for root in context:
        pack, _ = load_pack(root)
        if pack is not None and all(pack.meta.id != p.meta.id for p in linted):
            others.append(pack)
    try:
        catalog = load_catalog(
            catalog_files(BASE_CATALOG) + [p.fields_file for p in [*linted, *others] if p.fields_file]
        )
    except YamlSourceError as exc:
        if Path(exc.file).parent in roots:
            problems.append(RuleError(exc.file, exc.line, None, exc.message, suggestion="核对字段定义"))
            report.problems = _only(problems, only)
        else:
            report.unusable.append(str(exc))
        return report
    ids: dict[str, Path] = {p.meta.id: p.root for p in others}
    for p in linted:
        if p.meta.id in ids:
            problems.append(
                RuleError(
                    str(p.root / PACK_FILE),
                    p.meta_doc.line_of(("id",)),
                    "id",
                    f"政策包编号 {p.meta.id!r} 已被 {ids[p.meta.id]} 使用 (pack id clash)",
                    _key_column(str(p.root / PACK_FILE), p.meta_doc.line_of(("id",)), "id"),
                    "换一个编号,如在末尾加年份",
                )
            )
        ids[p.meta.id] = p.root
    all_packs = [*linted, *others]
    sup, errs = supersessions(all_packs)
    problems.extend(_enrich_compile_error(e) for e in errs)
    loaded_ids = {p.meta.id for p in all_packs}
    for p in linted:
        for ms in p.measures:
            for ci, c in enumerate(ms.measure.checks):
                if (
                    c.superseded_by
                    and ":" in c.superseded_by
                    and c.superseded_by.split(":")[0] not in loaded_ids
                ):
                    line = ms.doc.line_of(("checks", ci, "superseded_by"))
                    report.warnings.append(
                        RuleError(
                            str(ms.path),
                            line,
                            f"checks.{ci}.superseded_by",
                            f"取代本项的政策包 {c.superseded_by.split(':')[0]} 未加载,无法核对 {c.superseded_by}",
                            _key_column(str(ms.path), line, "superseded_by"),
                            "lint 时用 --rules 同时给出该政策包",
                            severity="warning",
                        )
                    )
    from engine.evaluation.driver import EngineError, RulesetHandle

    for p in linted:
        kinds, errs = compile_pack(p, catalog, sup)
        problems.extend(_enrich_compile_error(e) for e in errs)
        for ck in kinds.values():
            try:
                RulesetHandle(f"lint_{p.meta.id.replace('-', '_').replace('.', '_')}_{ck.kind}", ck.ruleset)
                report.rulesets += 1
            except EngineError as exc:
                cc = ck.checks[0]
                problems.append(
                    RuleError(
                        cc.file,
                        cc.line,
                        None,
                        f"durable-rules 拒绝了编译结果: {exc}",
                        suggestion="请把本文件和这条信息报告给开发人员",
                    )
                )
            problems.extend(_meaning(p, ck, catalog))
        problems.extend(_periods(p))
        problems.extend(superseded_empty(p, kinds))
    report.problems = _only(problems, only)
    report.warnings = _only(report.warnings, only)
    return report
