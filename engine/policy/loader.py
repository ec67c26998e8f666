"""Loading policy packs from folders: YAML -> pydantic models, every error with file and line.

``load_pack`` returns the pack and a list of ``RuleError``s (it keeps going, so ``rules lint``
can report them all); ``load_policy`` loads packs, compiles them and raises on any error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine import resources
from engine.policy.schema import MeasureFile, PackMeta
from engine.records.yamlsource import LocatedYaml, YamlSourceError, load_yaml_file

PACK_FILE = "pack.yaml"
FIELDS_FILE = "fields.yaml"
INDEX_FILE = "index.yaml"  # phrases of the source text left without a check (engine/policy/text_index.py)
# Package data (engine/resources.py): rules/ in the repository, engine/_rules/ in a wheel.
BUILTIN_RULES = resources.rules_dir()
BUILTIN_PACK = resources.builtin_pack_dir()
BASE_CATALOG = resources.records_dir()


@dataclass
class RuleError:
    file: str
    line: int | None
    field: str | None
    message: str
    column: int | None = None
    suggestion: str | None = None
    severity: str = "error"

    @property
    def head(self) -> str:
        """file:line:column: field: message — the part every report of this error shares."""
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"

    def __str__(self) -> str:
        s = self.head
        if self.suggestion and "did you mean" not in self.message:
            s += f" (suggestion: {self.suggestion})"
        return s


class PolicyError(Exception):
    """Rule packs that cannot be used; carries every error found."""

    def __init__(self, errors: list[RuleError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class MeasureSource:
    path: Path
    doc: LocatedYaml
    measure: MeasureFile


@dataclass
class Pack:
    root: Path
    meta: PackMeta
    meta_doc: LocatedYaml
    measures: list[MeasureSource] = field(default_factory=list)
    fields_file: Path | None = None

    def fingerprint(self) -> str:
        """Hash of the exact content of every file of the pack (names and bytes)."""
        h = hashlib.sha256()
        files = [self.root / PACK_FILE] + [m.path for m in self.measures]
        if self.fields_file:
            files.append(self.fields_file)
        for p in sorted(files):
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
        return h.hexdigest()


def _pydantic_errors(doc: LocatedYaml, exc: ValidationError, base: tuple = ()) -> list[RuleError]:
    out = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        path = base + loc
        # Pydantic locations use field names; YAML uses aliases ("from"): map start/end back.
        yaml_path = tuple({"start": "from", "end": "to"}.get(p, p) if isinstance(p, str) else p for p in path)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        elif e["type"] == "missing":
            msg = f"missing field {loc[-1]!r}"
        out.append(
            RuleError(doc.file, doc.line_of(yaml_path), ".".join(str(p) for p in yaml_path) or None, msg)
        )
    return out


def _line_of_error(exc: Exception, path: Path | None = None) -> int | None:
    """The line of a value the YAML reader refused, found by searching for the date it names."""
    import re

    m = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", str(exc))
    if path is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if m is None:
        # Python's date() names no date: look for a YYYY-MM-DD that does not exist.
        import datetime as dt

        for i, line in enumerate(text, 1):
            for y, mo, d in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})\b", line):
                try:
                    dt.date(int(y), int(mo), int(d))
                except ValueError:
                    return i
        return None
    for i, line in enumerate(text, 1):
        if m.group(0) in line:
            return i
    return None


def rule_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.y*ml") if p.name not in (PACK_FILE, FIELDS_FILE, INDEX_FILE))


def load_pack(root: str | Path) -> tuple[Pack | None, list[RuleError]]:
    root = Path(root)
    errors: list[RuleError] = []
    meta_path = root / PACK_FILE
    if not meta_path.is_file():
        return None, [
            RuleError(
                str(meta_path),
                None,
                None,
                "no pack.yaml: not a policy pack folder (create one with `compliance rules new-pack`)",
            )
        ]
    try:
        meta_doc = load_yaml_file(meta_path)
        meta = PackMeta.model_validate(meta_doc.data)
    except YamlSourceError as exc:
        return None, [RuleError(exc.file, exc.line, None, exc.message)]
    except (ValueError, OverflowError) as exc:  # e.g. an impossible date (2024-02-30) met by the YAML reader
        return None, [
            RuleError(str(meta_path), _line_of_error(exc), None, f"无法读取的取值 unreadable value: {exc}")
        ]
    except ValidationError as exc:
        return None, _pydantic_errors(meta_doc, exc)
    pack = Pack(root=root, meta=meta, meta_doc=meta_doc)
    if (root / FIELDS_FILE).is_file():
        pack.fields_file = root / FIELDS_FILE
    for path in rule_files(root):
        try:
            doc = load_yaml_file(path)
        except YamlSourceError as exc:
            errors.append(RuleError(exc.file, exc.line, None, exc.message))
            continue
        except (ValueError, OverflowError) as exc:  # an impossible date such as 2024-02-30
            errors.append(
                RuleError(
                    str(path),
                    _line_of_error(exc, path),
                    None,
                    f"无法读取的取值 unreadable value (e.g. an impossible date): {exc}",
                    suggestion="dates are YYYY-MM-DD and must exist",
                )
            )
            continue
        if not isinstance(doc.data, dict):
            errors.append(
                RuleError(str(path), 1, None, "a rule file must be a mapping (measure:, title:, checks: ...)")
            )
            continue
        try:
            measure = MeasureFile.model_validate(doc.data)
        except ValidationError as exc:
            errors.extend(_pydantic_errors(doc, exc))
            continue
        pack.measures.append(MeasureSource(path, doc, measure))
    seen: dict[int, Path] = {}
    for m in pack.measures:
        if m.measure.measure in seen:
            errors.append(
                RuleError(
                    str(m.path),
                    m.doc.line_of(("measure",)),
                    "measure",
                    f"measure {m.measure.measure} is also defined in {seen[m.measure.measure].name}",
                )
            )
        seen[m.measure.measure] = m.path
    pack.measures.sort(key=lambda m: m.measure.measure)
    return pack, errors
