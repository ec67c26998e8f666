"""A loaded policy: the record vocabulary plus compiled packs, ready to evaluate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from engine.policy.compiler import (
    CompiledAggregate,
    CompiledCheck,
    CompiledKind,
    compile_aggregates,
    compile_pack,
    supersessions,
)
from engine.policy.loader import BASE_CATALOG, BUILTIN_PACK, Pack, PolicyError, RuleError, load_pack
from engine.records.catalog import Catalog, catalog_files, load_catalog
from engine.records.yamlsource import YamlSourceError


@dataclass
class CompiledPack:
    pack: Pack
    kinds: dict[str, CompiledKind]
    fingerprint: str
    aggregates: dict[str, CompiledAggregate] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.pack.meta.id


@dataclass
class Policy:
    catalog: Catalog
    packs: list[CompiledPack]

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for f in catalog_files(BASE_CATALOG):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        for p in self.packs:
            h.update(p.fingerprint.encode())
        return h.hexdigest()

    def checks(self) -> list[CompiledCheck]:
        return [c for p in self.packs for k in p.kinds.values() for c in k.checks]

    def aggregates(self) -> dict[str, CompiledAggregate]:
        return {k: a for p in self.packs for k, a in p.aggregates.items()}

    def find_check(self, ident: str) -> CompiledCheck | None:
        for c in self.checks():
            if ident in (c.full_id, c.check.id):
                return c
        return None


def load_policy(
    pack_dirs: list[str | Path] | None = None,
    *,
    with_builtin: bool = True,
    collect: list[RuleError] | None = None,
) -> Policy:
    """Load the built-in pack and any others; raise PolicyError listing every problem.

    With `collect`, errors are appended there and the usable packs are returned (for lint).
    """
    dirs: list[Path] = [BUILTIN_PACK] if with_builtin else []
    for d in pack_dirs or []:
        path = Path(d).resolve()
        if path not in dirs:
            dirs.append(path)
    errors: list[RuleError] = []
    packs: list[Pack] = []
    for d in dirs:
        pack, errs = load_pack(d)
        errors.extend(errs)
        if pack is not None:
            packs.append(pack)
    ids: dict[str, Path] = {}
    for p in packs:
        if p.meta.id in ids:
            errors.append(
                RuleError(
                    str(p.root / "pack.yaml"),
                    p.meta_doc.line_of(("id",)),
                    "id",
                    f"pack id {p.meta.id!r} is also used by {ids[p.meta.id]}",
                )
            )
        ids[p.meta.id] = p.root
    files: list[str | Path] = [*catalog_files(BASE_CATALOG), *(p.fields_file for p in packs if p.fields_file)]
    try:
        catalog = load_catalog(files)
    except YamlSourceError as exc:
        raise PolicyError(errors + [RuleError(exc.file, exc.line, None, exc.message)]) from None
    compiled: list[CompiledPack] = []
    supersession, errs = supersessions(packs)
    errors.extend(errs)
    for p in packs:
        kinds, errs = compile_pack(p, catalog, supersession)
        aggregates, agg_errs = compile_aggregates(p, catalog)
        errors.extend(errs + agg_errs)
        if not errs and not agg_errs:
            compiled.append(CompiledPack(p, kinds, p.fingerprint(), aggregates))
    if errors and collect is None:
        raise PolicyError(errors)
    if collect is not None:
        collect.extend(errors)
    return Policy(catalog=catalog, packs=compiled)
