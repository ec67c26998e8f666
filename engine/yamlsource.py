"""Safe YAML loading that remembers where every value came from.

Rule files and YAML records are written by people; an error must name the file and line. PyYAML's
SafeLoader never builds arbitrary objects; on top of it we bound alias expansion (billion laughs)
and keep the line of each mapping key and sequence item, addressed by its path.
"""

from __future__ import annotations

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


def _construct(node: yaml.Node, loader: yaml.SafeLoader, path: Path_, lines: dict[Path_, int],
               budget: list[int], file: str) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlSourceError(file, node.start_mark.line + 1,
                              f"YAML expands to more than {MAX_NODES} nodes (alias bomb?); refused")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        # Collections are built here, not by the SafeLoader, so its refusal of unknown tags
        # (!!python/object/apply:...) must be repeated: a tag is never silently dropped.
        raise YamlSourceError(file, node.start_mark.line + 1, f"YAML tag {node.tag!r} is not allowed")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise YamlSourceError(file, key_node.start_mark.line + 1, "mapping keys must be scalars")
            if isinstance(key, (int, float, bool)) or key is None:
                key = str(key) if not hasattr(key, "isoformat") else key.isoformat()
            if key in out:
                raise YamlSourceError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, loader, path + (key,), lines, budget, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, loader, path + (i,), lines, budget, file)
                for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml_text(text: str, file: str) -> LocatedYaml:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LocatedYaml(file, None, {(): 1})
        lines: dict[Path_, int] = {}
        data = _construct(node, loader, (), lines, [MAX_NODES], file)
        return LocatedYaml(file, data, lines)
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


def load_yaml_file(path: str | Path) -> LocatedYaml:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlSourceError(str(p), None, f"not UTF-8 text: {exc}") from None
    return load_yaml_text(text, str(p))
