"""YAML text -> a plain value tree that remembers line numbers.

PyYAML's ``compose`` gives nodes with marks; we turn them into :class:`Node` objects (value +
1-based line) ourselves, so that every validation error can name the line of the offending
node. ``yaml`` is imported lazily: a cache hit in :mod:`mmcheck.db.loader` never imports it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from mmcheck.errors import DBError

__all__ = ["Node", "compose"]


@dataclass
class Node:
    """A YAML value with the line it starts on.

    ``value`` is a ``dict[str, Node]`` for mappings (``key_lines`` then maps each key to its
    line), a ``list[Node]`` for sequences, or a scalar (str, int, float, bool, None, date).
    """

    value: Any
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """A human name for the value's type, for error messages."""
        return kind_name(self.value)


def kind_name(value: object) -> str:
    """``mapping``, ``list``, ``string``, ``integer``, ... for error messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "a date"
    return type(value).__name__


def compose(text: bytes, file: str) -> tuple[Node | None, list[DBError]]:
    """Parse one YAML document; return its tree (``None`` if empty) and the errors found.

    Malformed YAML gives a single error at the parser's mark. Duplicate mapping keys, non-string
    keys, merge keys (``<<``) and unsupported tags are reported and skipped.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [DBError(f"malformed YAML: {problem}", file=file, line=line)]
    except yaml.YAMLError as exc:
        return None, [DBError(f"malformed YAML: {exc}", file=file)]
    if root is None:
        return None, []
    builder = _Builder(file, yaml)
    return builder.build(root), builder.errors


class _Builder:
    def __init__(self, file: str, yaml: Any) -> None:
        self.file = file
        self.yaml = yaml
        self.constructor = yaml.constructor.SafeConstructor()
        self.errors: list[DBError] = []

    def error(self, message: str, line: int) -> None:
        self.errors.append(DBError(message, file=self.file, line=line))

    def build(self, node: Any) -> Node:
        line = node.start_mark.line + 1
        if isinstance(node, self.yaml.MappingNode):
            return self._mapping(node, line)
        if isinstance(node, self.yaml.SequenceNode):
            return Node([self.build(item) for item in node.value], line)
        return Node(self._scalar(node, line), line)

    def _scalar(self, node: Any, line: int) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except self.yaml.YAMLError as exc:
            self.error(f"unsupported YAML value {node.value!r} ({node.tag}): {exc}", line)
            return None

    def _mapping(self, node: Any, line: int) -> Node:
        out = Node({}, line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error("YAML merge keys ('<<') are not supported", key_line)
                continue
            if not isinstance(key_node, self.yaml.ScalarNode):
                self.error("mapping keys must be plain strings", key_line)
                continue
            key = self._scalar(key_node, key_line)
            if not isinstance(key, str):
                self.error(
                    f"mapping key {key_node.value!r} must be a string, got {kind_name(key)} (quote it)", key_line
                )
                continue
            if key in out.value:
                self.error(f"duplicate key {key!r} (first on line {out.key_lines[key]})", key_line)
                continue
            out.value[key] = self.build(value_node)
            out.key_lines[key] = key_line
        return out
