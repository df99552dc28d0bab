"""The rule language: safe, typed expressions over an event, its features and model scores.

Rules are expressions in a small subset of Python (``and``, ``or``, ``not``, comparisons,
``+ - * / %``, ``in``, literals, names under ``event.``, ``features.`` and ``scores.``, and the
registered functions of :mod:`~rampart.detect.rules.functions`), parsed with :mod:`ast` against a
whitelist, typed against a catalogue at load time, and compiled twice: to a per-event closure
over a row of values and to a Polars expression over a table of them. Both forms agree.

Null semantics (SQL / Polars three-valued logic): every value may be null (a field the event
does not carry). Comparisons, arithmetic and strict functions with a null operand give null;
``x / 0`` and ``x % 0`` give null; ``and`` / ``or`` are Kleene (``False and null`` is False,
``True or null`` is True, otherwise null wins); ``not null`` is null; ``x in [...]`` is null
when x is null, and nulls inside a list value are never matched; NaN reads as null. A rule
hits only when its value is True.

Numbers: ``/`` is true division (always float); ``%`` is floored as in Python and Polars
(``-7 % 2 == 1``), on floats computed as ``a - b * floor(a / b)`` in both forms; int with float
gives float. Integers are 64-bit in the vectorised form (Python's never overflow), so keep
arithmetic within ±9.2e18. Strings compare by code point.

>>> catalogue = {"event.props.total": "float", "features.orders_1h": "int"}
>>> rule = compile_expression("features.orders_1h >= 3 and event.props.total > 100", catalogue)
>>> rule({"features.orders_1h": 4, "event.props.total": 250.0}), sorted(rule.paths)
(True, ['event.props.total', 'features.orders_1h'])
>>> rule({"features.orders_1h": 4}), rule({"features.orders_1h": 1})
(None, False)
"""

from rampart.detect.rules.errors import (
    ExpressionError,
    ExpressionProblem,
    PackError,
    PackProblem,
)
from rampart.detect.rules.expression import Expression, compile_expression
from rampart.detect.rules.functions import (
    FUNCTIONS,
    CallSite,
    DuplicateFunctionError,
    Function,
    FunctionRegistry,
)
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.pack import build_pack, check_pack, load_pack
from rampart.detect.rules.pack_model import LoadedPack, Mode, Rule, RuleAction, RuleVerdict
from rampart.detect.rules.watch import PackWatcher

__all__ = [
    "FUNCTIONS",
    "CallSite",
    "DuplicateFunctionError",
    "Expression",
    "ExpressionError",
    "ExpressionProblem",
    "Function",
    "FunctionRegistry",
    "ListStore",
    "LoadedPack",
    "Mode",
    "PackError",
    "PackProblem",
    "PackWatcher",
    "Rule",
    "RuleAction",
    "RuleVerdict",
    "build_pack",
    "check_pack",
    "compile_expression",
    "load_pack",
]
