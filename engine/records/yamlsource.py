"""Safe YAML loading that remembers where every value came from.

Rule files and YAML records are written by people; an error must name the file and line. PyYAML's
SafeLoader never builds arbitrary objects; on top of it we bound alias expansion (billion laughs)
and keep the line of each mapping key and sequence item, addressed by its path.

Two schemas. Rule files (``load_yaml_text``/``load_yaml_file``) keep PyYAML's: ``from: 2024-05-06`` is
a date there. Record files (``load_record_documents``) are read stricter than YAML 1.2's core schema,
so the loader never decides what a value is: a plain scalar is its text (``0600``, ``1:30``, ``0012``,
``yes``, ``2024-02-30`` stay as written; the field's own type decides, through engine.records.coerce),
except ``true``/``false`` and ``null``/``~``/empty. A value with an explicit tag (``!!int 12x``,
``!!binary``, ``!!python/...``) is never constructed: it becomes a ``BadCell`` naming the tag and the
line, so that one field is reported. Every document of a record file is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

MAX_NODES = 200_000  # nodes after alias expansion; a real rule file has a few hundred


class YamlSourceError(ValueError):
    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


Path_ = tuple[str | int, ...]


class LocatedYaml:
    """Parsed YAML plus the 1-based line of every node, addressed by its path of keys/indexes."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]):
        self.file, self.data, self.lines = file, data, lines

    def line_of(self, path: Path_) -> int | None:
        """Line of the deepest existing prefix of `path` (an error on a missing key points at its parent)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}


class _RecordLoader(yaml.SafeLoader):
    """Resolves only true/false, null and the merge key '<<'; every other plain scalar is text."""

    yaml_implicit_resolvers: dict = {}


_RecordLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_RecordLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_RecordLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

_STR, _BOOL, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"


def _record_scalar(node: yaml.ScalarNode) -> Any:
    from engine.records.coerce import BadCell

    if node.tag == _STR:
        return node.value
    if node.tag == _BOOL and node.value in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return node.value in ("true", "True", "TRUE")
    if node.tag == _NULL and node.value in ("~", "null", "Null", "NULL", ""):
        return None
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return BadCell(
        f"YAML 标签 {tag} 不允许 tag not allowed (line {node.start_mark.line + 1}); "
        "write the value without a tag"
    )


def _construct(
    node: yaml.Node,
    loader: yaml.SafeLoader,
    path: Path_,
    lines: dict[Path_, int],
    budget: list[int],
    file: str,
    strict: bool = False,
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlSourceError(
            file,
            node.start_mark.line + 1,
            f"YAML expands to more than {MAX_NODES} nodes (alias bomb?); refused",
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if strict:
        if isinstance(node, yaml.ScalarNode):
            return _record_scalar(node)
        if node.tag not in _PLAIN_TAGS:
            from engine.records.coerce import BadCell

            return BadCell(
                f"YAML 标签 {node.tag.replace('tag:yaml.org,2002:', '!!')} 不允许 tag not allowed "
                f"(line {node.start_mark.line + 1})"
            )
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        # Collections are built here, not by the SafeLoader, so its refusal of unknown tags
        # (!!python/object/apply:...) must be repeated: a tag is never silently dropped.
        raise YamlSourceError(file, node.start_mark.line + 1, f"YAML tag {node.tag!r} is not allowed")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if strict:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlSourceError(file, key_node.start_mark.line + 1, "mapping keys must be scalars")
                key = _record_scalar(key_node)
                if not isinstance(key, (str, bool)) and key is not None:
                    raise YamlSourceError(
                        file,
                        key_node.start_mark.line + 1,
                        f"mapping key with a tag is not allowed: {key_node.tag}",
                    )
            else:
                key = _scalar(loader, key_node, file)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise YamlSourceError(file, key_node.start_mark.line + 1, "mapping keys must be scalars")
            if isinstance(key, (int, float, bool)) or key is None:
                key = str(key)  # (dates never get here: a date key is refused just above)
            if key in out:
                if strict:  # a record file: the value is unusable (which one is meant?), not the file
                    from engine.records.coerce import BadCell

                    out[key] = BadCell(
                        f"重复的键 duplicate key {key!r} (line {key_node.start_mark.line + 1}): "
                        "which value is meant?"
                    )
                    continue
                raise YamlSourceError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, loader, path + (key,), lines, budget, file, strict)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(child, loader, path + (i,), lines, budget, file, strict)
            for i, child in enumerate(node.value)
        ]
    return _scalar(loader, node, file)


def _scalar(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    """A rule file's scalar as PyYAML's SafeLoader reads it; a value it cannot build is an error at its line."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc)
        if "int_max_str_digits" in reason or "digits" in reason and "limit" in reason:
            reason = "整数过长 integer longer than 4300 digits"
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlSourceError(
            file,
            node.start_mark.line + 1,
            f"YAML 值无法读取 cannot read {str(node.value)[:40]!r} as {tag}: {reason}",
        ) from None


@contextmanager
def _reading(file: str, loader: yaml.SafeLoader) -> Iterator[None]:
    """YAML's errors as YamlSourceError naming the file (and line); the loader freed afterwards."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSourceError(file, line, f"YAML 语法错误 syntax error: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(file, None, f"YAML 语法错误 syntax error: {exc}") from None
    except RecursionError:
        # PyYAML composes nested collections recursively; thousands of levels are an attack, not data.
        raise YamlSourceError(file, None, "YAML nested too deeply; refused") from None
    finally:
        loader.dispose()


def load_yaml_text(text: str, file: str) -> LocatedYaml:
    loader = yaml.SafeLoader(text)
    with _reading(file, loader):
        node = loader.get_single_node()
        if node is None:
            return LocatedYaml(file, None, {(): 1})
        lines: dict[Path_, int] = {}
        data = _construct(node, loader, (), lines, [MAX_NODES], file)
        return LocatedYaml(file, data, lines)


def load_record_documents(text: str, file: str) -> list[LocatedYaml]:
    """Every document of a record file, read with the strict record schema (module docstring)."""
    loader = _RecordLoader(text)
    docs: list[LocatedYaml] = []
    budget = [MAX_NODES]
    with _reading(file, loader):
        while loader.check_node():
            node = loader.get_node()
            lines: dict[Path_, int] = {}
            data = None if node is None else _construct(node, loader, (), lines, budget, file, strict=True)
            lines.setdefault((), node.start_mark.line + 1 if node is not None else 1)
            docs.append(LocatedYaml(file, data, lines))
    return docs or [LocatedYaml(file, None, {(): 1})]


def load_yaml_file(path: str | Path) -> LocatedYaml:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlSourceError(str(p), None, f"not UTF-8 text: {exc}") from None
    return load_yaml_text(text, str(p))
