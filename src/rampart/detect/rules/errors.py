"""Problems found in expressions and rule packs, each with where it is and how to fix it.

Validators collect every problem rather than stopping at the first, so an analyst fixes a pack
in one pass.

>>> p = ExpressionProblem("unknown name 'event.props.totl'", 1, 12, "event.props.total")
>>> str(p)
"1:12: unknown name 'event.props.totl' (did you mean 'event.props.total'?)"
>>> str(PackProblem("fraud.yaml", "unknown area 'scalpers'", rule="r1", line=4, column=13,
...                 suggestion="scalper"))
"fraud.yaml:4:13: rule 'r1': unknown area 'scalpers' (did you mean 'scalper'?)"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``word`` (difflib ratio), or None when nothing is close.

    >>> closest("usr_orders", ["user_orders", "user_age"])
    'user_orders'
    """
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def _hint(suggestion: str | None) -> str:
    return f" (did you mean {suggestion!r}?)" if suggestion else ""


@dataclass(frozen=True, slots=True)
class ExpressionProblem:
    """A problem in one expression; ``line`` and ``column`` count from 1 within the expression."""

    message: str
    line: int
    column: int
    suggestion: str | None = None

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}{_hint(self.suggestion)}"


class ExpressionError(ValueError):
    """An expression that does not parse or check; carries every problem found."""

    def __init__(self, source: str, problems: Sequence[ExpressionProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class PackProblem:
    """A problem in a rule pack.

    ``file`` is relative to the pack folder; ``line`` and ``column`` count from 1 in that file
    (None when the problem is about the file as a whole); ``rule`` names the rule concerned.
    """

    file: str
    message: str
    rule: str | None = None
    line: int | None = None
    column: int | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        rule = f" rule {self.rule!r}:" if self.rule else ""
        return f"{where}:{rule} {self.message}{_hint(self.suggestion)}"


class PackError(ValueError):
    """A rule pack that failed to load; ``problems`` lists all of them."""

    def __init__(self, problems: Sequence[PackProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"rule pack has {count} problem{'s' if count != 1 else ''}:\n{lines}")
