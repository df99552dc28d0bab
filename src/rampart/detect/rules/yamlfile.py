"""Read a YAML file keeping where each value came from, to point errors at lines and columns.

PyYAML's composer gives every node its start mark; :func:`load_yaml` keeps the node tree beside
the plain data, and :func:`scalar_origin` maps a position inside a string value (a rule's
expression) back to the file, through the quoting and folding of YAML scalars.

>>> doc = load_yaml("rules:\\n  - name: big\\n    expression: |\\n      a and\\n      b > 1\\n")
>>> rule = items(entries(doc.root)["rules"].value)[0]
>>> expression = entries(rule)["expression"].value
>>> position(expression)
(3, 17)
>>> scalar_origin(expression, doc.lines)(2, 3)
(5, 9)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    root: yaml.Node | None
    lines: list[str]


class Entry(NamedTuple):
    key: yaml.Node
    value: yaml.Node


def load_yaml(text: str) -> YamlDocument:
    """The data of a one-document YAML text (safe types only) and its node tree."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(str(part) for part in (error.context, error.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise YamlSyntaxError(message or "invalid YAML", line, column) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error), None, None) from None
    finally:
        loader.dispose()
    return YamlDocument(data, root, text.split("\n"))


def position(node: yaml.Node) -> tuple[int, int]:
    """1-based (line, column) where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def entries(node: yaml.Node | None) -> dict[str, Entry] | None:
    """The entries of a mapping node by key (the last of repeated keys, as the data has it)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return {str(key.value): Entry(key, value) for key, value in node.value}


def repeated_keys(node: yaml.Node | None) -> list[yaml.Node]:
    """Key nodes that repeat an earlier key of the same mapping (YAML silently keeps the last)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    seen: set[str] = set()
    repeated = []
    for key, _value in node.value:
        if str(key.value) in seen:
            repeated.append(key)
        seen.add(str(key.value))
    return repeated


def items(node: yaml.Node | None) -> list[yaml.Node]:
    """The item nodes of a sequence node (empty for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


Origin = Callable[[int, int], tuple[int, int]]


def scalar_origin(node: yaml.Node, lines: list[str]) -> Origin:
    """Map (line, column) within a scalar's string value to (line, column) in the file.

    Exact for one-line scalars and literal blocks (``|``); for folded and multi-line plain
    scalars, whose line breaks became spaces, the column is followed across the folded lines.
    Escapes inside double quotes can shift a column by a few characters.
    """
    start, end = node.start_mark, node.end_mark
    style = getattr(node, "style", None)
    if start.line == end.line:
        shift = start.column + (1 if style in ("'", '"') else 0)
        return lambda line, column: (start.line + line, shift + column)
    if style == "|":
        content = [text for text in lines[start.line + 1 : end.line + 1] if text.strip()]
        indent = len(content[0]) - len(content[0].lstrip()) if content else 0
        return lambda line, column: (start.line + 1 + line, indent + column)
    pieces: list[tuple[int, int, int]] = []  # (file line 0-based, column 0-based, length)
    first = start.line
    if style != ">":
        text = lines[first][start.column + (1 if style else 0) :].rstrip()
        pieces.append((first, len(lines[first]) - len(lines[first][start.column :]), len(text)))
    for number in range(first + 1, min(end.line + 1, len(lines))):
        text = lines[number]
        if text.strip():
            indent = len(text) - len(text.lstrip())
            pieces.append((number, indent, len(text.strip())))

    def folded(line: int, column: int) -> tuple[int, int]:
        offset = column - 1
        for number, indent, length in pieces:
            if offset <= length:
                return number + 1, indent + offset + 1
            offset -= length + 1  # the space the line break folded into
        return start.line + 1, start.column + 1

    return folded
