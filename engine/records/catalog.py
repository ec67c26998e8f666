"""The record vocabulary: subject kinds and their fields, loaded from YAML.

Fields are data (``rules/records.yaml`` plus any ``fields.yaml`` of a pack), so a new policy that
needs a new figure adds a line of YAML, not Python. Every quantity names its canonical unit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.records import units
from engine.records.yamlsource import LocatedYaml, YamlSourceError, load_yaml_file

FieldType = Literal["number", "integer", "boolean", "text", "enum", "date"]
# The built-in subject kinds; a pack's fields.yaml may declare more (a province 省, a development zone).
KINDS: tuple[str, ...] = ("project", "town", "county", "city", "enterprise", "department")
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# Largest magnitude a quantity may have: values are judged in millionths of their unit as exact
# integers in a double (2**53 / 10**6 ~ 9.007e9), see engine/policy/numbers.py.
MAX_MAGNITUDE = Decimal("9000000000")


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    label: str
    type: FieldType
    unit: str | None = None
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    min: Decimal | None = None
    exclusive_min: Decimal | None = None
    max: Decimal | None = None
    choices: list[str] = Field(default_factory=list)
    # A percentage field whose values are points (57 means 57%): a bare number in (0, 1] is
    # ambiguous (0.57 or 0.57%?) and is reported, not guessed.
    percent_points: bool = True

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.type in ("number", "integer") and self.unit and not units.is_known(self.unit):
            raise ValueError(f"unknown unit {self.unit!r}")
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum field needs choices")
        return self


class KindSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    label: str
    aliases: list[str] = Field(default_factory=list)
    # The field that dates a record of this kind (submission date or reporting year).
    date_field: str
    fields: dict[str, FieldSpec]


class Catalog(BaseModel):
    """All kinds with their fields (common fields merged into each kind)."""

    kinds: dict[str, KindSpec]

    def kind(self, name: str) -> KindSpec:
        return self.kinds[name]

    def field(self, kind: str, name: str) -> FieldSpec | None:
        return self.kinds[kind].fields.get(name)

    def resolve_kind(self, text: str) -> str | None:
        """'project', '项目', '建设项目' -> 'project'."""
        t = text.strip()
        for name, spec in self.kinds.items():
            if t == name or t == spec.label or t in spec.aliases:
                return name
        return None

    def resolve_field(self, kind: str, name: str) -> str | None:
        """An identifier or Chinese label/alias -> the field name, or None."""
        spec = self.kinds[kind]
        if name in spec.fields:
            return name
        for fname, f in spec.fields.items():
            if name == f.label or name in f.aliases:
                return fname
        return None

    def suggest_field(self, kind: str, name: str) -> str | None:
        """The closest existing field, for 'did you mean 总投资/total_investment?'."""
        spec = self.kinds[kind]
        names: dict[str, str] = {}
        for fname, f in spec.fields.items():
            names[fname] = fname
            names[f.label] = fname
            for a in f.aliases:
                names[a] = fname
        close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.5)
        if not close:
            return None
        fname = names[close[0]]
        return f"{spec.fields[fname].label}/{fname}"


class CatalogError(ValueError):
    pass


def _parse_fields(doc: LocatedYaml, raw: dict, base: tuple) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for fname, fraw in (raw or {}).items():
        try:
            spec = FieldSpec.model_validate(fraw)
        except ValidationError as exc:
            err = exc.errors()[0]
            path = base + (fname,) + tuple(err["loc"])
            raise YamlSourceError(
                doc.file,
                doc.line_of(path),
                f"field {fname!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
            ) from None
        out[fname] = spec.model_copy(update={"name": fname})
    return out


def catalog_files(folder: Path) -> list[Path]:
    """The vocabulary folder: kinds.yaml first (declares the kinds), then the files adding fields."""
    files = sorted(folder.glob("*.y*ml"))
    return sorted(files, key=lambda p: (p.name != "kinds.yaml", p.name))


def load_catalog(paths: Sequence[str | Path]) -> Catalog:
    """Load the base vocabulary and its extensions; a field defined twice differently is an error.

    A kind is declared once (label, date_field); later files may only add fields to it.
    """
    kinds: dict[str, KindSpec] = {}
    common: dict[str, FieldSpec] = {}
    for path in paths:
        doc = load_yaml_file(path)
        data = doc.data or {}
        if not isinstance(data, dict):
            raise YamlSourceError(doc.file, 1, "a field catalog must be a mapping")
        unknown = set(data) - {"common", "kinds"}
        if unknown:
            raise YamlSourceError(
                doc.file,
                doc.line_of((sorted(unknown)[0],)),
                f"unknown top-level key {sorted(unknown)[0]!r}; expected common, kinds",
            )
        new_common = _parse_fields(doc, data.get("common", {}), ("common",))
        common.update(new_common)
        for spec in kinds.values():  # common fields reach kinds declared earlier too
            for fname, f in new_common.items():
                spec.fields.setdefault(fname, f)
        for kname, kraw in (data.get("kinds") or {}).items():
            kraw = kraw or {}
            if kname not in kinds and not (isinstance(kname, str) and _KIND_NAME.match(kname)):
                raise YamlSourceError(
                    doc.file,
                    doc.line_of(("kinds", kname)),
                    f"subject kind {kname!r}: lowercase letters, digits and '_' (e.g. province)",
                )
            if kname not in kinds and "label" not in kraw:
                raise YamlSourceError(
                    doc.file,
                    doc.line_of(("kinds", kname)),
                    f"unknown subject kind {kname!r}; known: {', '.join(kinds)}. "
                    "A new kind is declared with its label (Chinese name), date_field and fields",
                )
            fields = _parse_fields(doc, kraw.get("fields", {}), ("kinds", kname, "fields"))
            if kname in kinds:
                extra = set(kraw) - {"fields"}
                if extra:
                    raise YamlSourceError(
                        doc.file,
                        doc.line_of(("kinds", kname, sorted(extra)[0])),
                        f"kind {kname} is declared in another file; here only fields may be added",
                    )
                existing = kinds[kname]
                for fname, f in fields.items():
                    if fname in existing.fields and existing.fields[fname] != f:
                        raise YamlSourceError(
                            doc.file,
                            doc.line_of(("kinds", kname, "fields", fname)),
                            f"field {kname}.{fname} is already defined differently",
                        )
                    existing.fields[fname] = f
                continue
            try:
                spec = KindSpec.model_validate(
                    {**{k: v for k, v in kraw.items() if k != "fields"}, "fields": {}}
                )
            except ValidationError as exc:
                err = exc.errors()[0]
                raise YamlSourceError(
                    doc.file, doc.line_of(("kinds", kname) + tuple(err["loc"])), f"kind {kname}: {err['msg']}"
                ) from None
            spec.fields = {**common, **fields}
            spec.name = kname
            if spec.date_field not in spec.fields:
                raise YamlSourceError(
                    doc.file,
                    doc.line_of(("kinds", kname, "date_field")),
                    f"date_field {spec.date_field!r} is not a field of {kname}",
                )
            kinds[kname] = spec
    _check_names_unique(kinds)
    return Catalog(kinds=kinds)


def _check_names_unique(kinds: dict[str, KindSpec]) -> None:
    """A column name (label or alias) must name one field of a kind: else a cell would land in
    whichever field happens to be listed first, and another check would silently miss it."""
    for kname, spec in kinds.items():
        owner: dict[str, str] = {}
        for fname, f in spec.fields.items():
            for name in dict.fromkeys([fname, f.label, *f.aliases]):
                other = owner.setdefault(name, fname)
                if other != fname:
                    raise YamlSourceError(
                        "rules/records",
                        None,
                        f"kind {kname}: the column name {name!r} names two fields, {other} and {fname}; "
                        "give each field its own label and aliases",
                    )
