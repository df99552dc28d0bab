"""The types of the rule language and how they combine.

The catalogue types (:data:`rampart.features.fields.ValueType`) are ``bool``, ``int``,
``float``, ``str`` and ``list[str]``. Inside an expression two more kinds appear: literal lists of
other element types (``[1, 2]`` is ``list[int]``) and ``null``, the type of the ``None`` literal.
Every value may be null at run time whatever its type; ``null`` is only the static type of ``None``.

>>> numeric_result("int", "float"), unify("int", "float"), unify("str", "null")
('float', 'float', 'str')
>>> unify("str", "int") is None
True
"""

from __future__ import annotations

from typing import Final

import polars as pl

BOOL: Final = "bool"
INT: Final = "int"
FLOAT: Final = "float"
STR: Final = "str"
NULL: Final = "null"
LIST_STR: Final = "list[str]"
# The type of a sub-expression that already failed to check: it matches anything, so one mistake
# reports one error rather than a cascade of follow-on ones.
ERROR: Final = "<error>"

NUMERIC: Final[frozenset[str]] = frozenset({INT, FLOAT})
ANY: Final[frozenset[str]] = frozenset({BOOL, INT, FLOAT, STR, LIST_STR})

POLARS_DTYPES: Final[dict[str, pl.DataType]] = {
    BOOL: pl.Boolean(),
    INT: pl.Int64(),
    FLOAT: pl.Float64(),
    STR: pl.String(),
    LIST_STR: pl.List(pl.String()),
}
"""The column type of each catalogue type in the vectorised form."""


def list_of(element: str) -> str:
    return f"list[{element}]"


def element_of(list_type: str) -> str | None:
    """``str`` for ``list[str]``; None when the type is not a list."""
    if list_type.startswith("list[") and list_type.endswith("]"):
        return list_type[5:-1]
    return None


def numeric_result(left: str, right: str) -> str:
    """The type of ``left <op> right`` for ``+ - * %``: int only when both sides are int."""
    return INT if left == INT and right == INT else FLOAT


def unify(left: str, right: str) -> str | None:
    """The common type of two values (for coalesce and lists), or None when there is none."""
    if left == right:
        return left
    if left in (NULL, ERROR):
        return right
    if right in (NULL, ERROR):
        return left
    if left in NUMERIC and right in NUMERIC:
        return FLOAT
    return None


def comparable(left: str, right: str, op: str) -> bool:
    """Whether ``left <op> right`` is well typed (``==``/``!=`` on bools, no order on bools)."""
    if ERROR in (left, right):
        return True
    if left in NUMERIC and right in NUMERIC:
        return True
    if left == right == STR:
        return True
    return left == right == BOOL and op in ("==", "!=")
