"""AST node types of the condition language. Every node knows its source span."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from upsell_rules.plugin.types import Function

Span = tuple[int, int]

CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
ArithOp = Literal["+", "-", "*", "/"]


@dataclass(frozen=True)
class Num:
    """A number literal; ``80%`` is stored as 0.8 with ``percent`` set."""

    value: float | int
    span: Span
    percent: bool = False


@dataclass(frozen=True)
class Str:
    """A quoted string literal."""

    value: str
    span: Span


@dataclass(frozen=True)
class DateLit:
    """A date: a string literal compared with a date signal becomes one at check time."""

    value: date
    span: Span


@dataclass(frozen=True)
class Bool:
    """``true`` or ``false``."""

    value: bool
    span: Span


@dataclass(frozen=True)
class Name:
    """A reference to a signal or a constant."""

    name: str
    span: Span


@dataclass(frozen=True)
class ListLit:
    """``[a, b, c]``: literals only."""

    items: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """``name(arg, ...)``: a call to a function a plugin registered.

    The parser leaves ``function`` empty; the checker fills it with the registered
    :class:`~upsell_rules.plugin.types.Function`, so engines need no registry. Any
    missing argument makes the call's value missing.
    """

    name: str
    args: tuple[Node, ...]
    span: Span
    function: Function | None = None


@dataclass(frozen=True)
class Arith:
    """Arithmetic on numbers; any missing operand (or division by zero) is missing."""

    op: ArithOp
    left: Node
    right: Node
    span: Span


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    operand: Node
    span: Span


@dataclass(frozen=True)
class Compare:
    """One comparison; chains like ``a <= x < b`` become an :class:`And` of these."""

    op: CompareOp
    left: Node
    right: Node
    span: Span


@dataclass(frozen=True)
class In:
    """``x in [...]`` / ``"v" in list_signal``, and ``not in``."""

    item: Node
    container: Node
    negated: bool
    span: Span


@dataclass(frozen=True)
class IsMissing:
    """``x is missing`` (or ``is present``, stored with ``negated``)."""

    operand: Node
    negated: bool
    span: Span


@dataclass(frozen=True)
class Not:
    """``not x``."""

    operand: Node
    span: Span


@dataclass(frozen=True)
class And:
    """``a and b and ...``."""

    items: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Or:
    """``a or b or ...``."""

    items: tuple[Node, ...]
    span: Span


Node = (
    Num | Str | DateLit | Bool | Name | ListLit | Call | Arith | Neg | Compare | In | IsMissing
    | Not | And | Or
)

#: The node types of a value written in the condition itself (``isinstance(node, LITERALS)``).
LITERALS = (Num, Str, DateLit, Bool)


def names_in(node: Node) -> list[str]:
    """Every name the expression references, in order of first appearance."""
    found: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Name):
            if n.name not in found:
                found.append(n.name)
        elif isinstance(n, ListLit):
            for item in n.items:
                walk(item)
        elif isinstance(n, Call):
            for arg in n.args:
                walk(arg)
        elif isinstance(n, Arith | Compare):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, In):
            walk(n.item)
            walk(n.container)
        elif isinstance(n, Neg | Not | IsMissing):
            walk(n.operand)
        elif isinstance(n, And | Or):
            for item in n.items:
                walk(item)

    walk(node)
    return found
